// Package account is the simulated Account API: ListRegions, which
// `perch ls --all-regions` asks which regions are enabled.
package account

import (
	"encoding/json"
	"net/http"
	"sort"

	"github.com/perch-dev/perch/sim/awsproto"
)

// Service is the Account API's ListRegions over restJson1 (POST /listRegions), which
// `perch ls --all-regions` asks which regions are enabled. The simulator
// serves one region, so only that one is enabled; a few others are listed
// as disabled, the way an account's opt-in regions are.
type Service struct{ region string }

// New serves an account whose only enabled region is region.
func New(region string) *Service { return &Service{region: region} }

func (a *Service) Operation(r *http.Request, _ []byte) string {
	if r.Method == http.MethodPost && r.URL.Path == "/listRegions" {
		return "ListRegions"
	}
	return ""
}

func (a *Service) Serve(w http.ResponseWriter, r *http.Request, body []byte) {
	if a.Operation(r, body) == "" {
		writeAccountErr(w, http.StatusNotFound, "UnknownOperationException", "the simulator serves only ListRegions of the Account API")
		return
	}
	var in struct {
		RegionOptStatusContains []string `json:"RegionOptStatusContains"`
	}
	if len(body) > 0 {
		if err := json.Unmarshal(body, &in); err != nil {
			writeAccountErr(w, http.StatusBadRequest, "ValidationException", "could not parse the request body: "+err.Error())
			return
		}
	}
	type region struct {
		RegionName      string `json:"RegionName"`
		RegionOptStatus string `json:"RegionOptStatus"`
	}
	all := []region{{a.region, "ENABLED_BY_DEFAULT"}}
	for _, r := range []string{"af-south-1", "ap-east-1", "me-south-1"} {
		if r != a.region {
			all = append(all, region{r, "DISABLED"})
		}
	}
	want := map[string]bool{}
	for _, s := range in.RegionOptStatusContains {
		switch s {
		case "ENABLED", "ENABLING", "DISABLING", "DISABLED", "ENABLED_BY_DEFAULT":
			want[s] = true
		default:
			writeAccountErr(w, http.StatusBadRequest, "ValidationException", "1 validation error detected: Value '"+s+"' at 'regionOptStatusContains' failed to satisfy constraint")
			return
		}
	}
	out := struct {
		Regions []region `json:"Regions"`
	}{Regions: []region{}}
	for _, r := range all {
		if len(want) == 0 || want[r.RegionOptStatus] {
			out.Regions = append(out.Regions, r)
		}
	}
	sort.Slice(out.Regions, func(i, j int) bool { return out.Regions[i].RegionName < out.Regions[j].RegionName })
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(out)
}

func writeAccountErr(w http.ResponseWriter, status int, code, msg string) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("X-Amzn-Errortype", code)
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(map[string]string{"message": msg})
}

// Endpoint routes signed requests only: the Account API has no unsigned
// callers.
func (a *Service) Endpoint() awsproto.Endpoint {
	return awsproto.Endpoint{Name: "account", SigningName: "account"}
}

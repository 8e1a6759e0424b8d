package cli

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"time"

	"github.com/perch-dev/perch/internal/privfile"
	"github.com/perch-dev/perch/model"
)

// The scan cache: one file per profile and region, so the cockpit's list
// opens at once on the last scan and says how old it is.

type scanCache struct {
	ScannedAt time.Time     `json:"scanned_at"`
	Found     []model.Found `json:"found"`
}

var unsafeName = regexp.MustCompile(`[^A-Za-z0-9._-]`)

// scanCachePath is $XDG_CACHE_HOME/perch/scan/PROFILE@REGION.json.
func scanCachePath(profile, region string) (string, error) {
	dir := os.Getenv("XDG_CACHE_HOME")
	if dir == "" {
		home, err := os.UserHomeDir()
		if err != nil {
			return "", fmt.Errorf("find the cache directory: %w", err)
		}
		dir = filepath.Join(home, ".cache")
	}
	if profile == "" {
		profile = "default"
	}
	name := unsafeName.ReplaceAllString(profile, "_") + "@" + unsafeName.ReplaceAllString(region, "_") + ".json"
	return filepath.Join(dir, "perch", "scan", name), nil
}

// writeScanCache keeps a region's scan; a cache that cannot be written
// only means the next list starts empty.
func writeScanCache(profile, region string, found []model.Found) {
	path, err := scanCachePath(profile, region)
	if err != nil {
		return
	}
	b, err := json.Marshal(scanCache{ScannedAt: time.Now().UTC(), Found: found})
	if err != nil {
		return
	}
	dir := filepath.Dir(path)
	if os.MkdirAll(dir, 0o700) != nil || privfile.CheckDir(dir) != nil {
		return
	}
	// Written whole then renamed into place, so a reader never sees half.
	tmp := path + ".tmp"
	f, err := privfile.Open(tmp, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o600)
	if err != nil {
		return
	}
	_, werr := f.Write(b)
	if cerr := f.Close(); werr != nil || cerr != nil {
		os.Remove(tmp)
		return
	}
	_ = os.Rename(tmp, path)
}

// readScanCache reads a region's last scan; ok is false when there is none.
func readScanCache(profile, region string) (scanCache, bool) {
	path, err := scanCachePath(profile, region)
	if err != nil {
		return scanCache{}, false
	}
	b, err := os.ReadFile(path)
	if err != nil {
		return scanCache{}, false
	}
	var c scanCache
	if json.Unmarshal(b, &c) != nil {
		return scanCache{}, false
	}
	return c, true
}

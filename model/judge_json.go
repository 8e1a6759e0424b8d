package model

import (
	"encoding/json"
	"math"
)

// A metric's verdict carries numbers JSON cannot: EffectSize is NaN when
// the window holds no traffic on both sides, NeededRequests +Inf when the
// traffic can never get there. They travel as null (recordings, perch
// status --json) and come back as what they were.

type metricVerdictJSON struct {
	metricVerdictFields
	EffectSize     *float64 `json:"effect_size"`
	NeededRequests *float64 `json:"needed_requests"`
}

// metricVerdictFields is MetricVerdict without its methods, so that
// encoding it does not recurse into MarshalJSON.
type metricVerdictFields MetricVerdict

func finiteOrNil(x float64) *float64 {
	if math.IsNaN(x) || math.IsInf(x, 0) {
		return nil
	}
	return &x
}

// MarshalJSON writes the non-finite numbers as null.
func (m MetricVerdict) MarshalJSON() ([]byte, error) {
	return json.Marshal(metricVerdictJSON{
		metricVerdictFields: metricVerdictFields(m),
		EffectSize:          finiteOrNil(m.EffectSize),
		NeededRequests:      finiteOrNil(m.NeededRequests),
	})
}

// UnmarshalJSON reads null back: an effect size of NaN, a need of +Inf.
func (m *MetricVerdict) UnmarshalJSON(b []byte) error {
	var j metricVerdictJSON
	if err := json.Unmarshal(b, &j); err != nil {
		return err
	}
	*m = MetricVerdict(j.metricVerdictFields)
	m.EffectSize, m.NeededRequests = math.NaN(), math.Inf(1)
	if j.EffectSize != nil {
		m.EffectSize = *j.EffectSize
	}
	if j.NeededRequests != nil {
		m.NeededRequests = *j.NeededRequests
	}
	return nil
}

package scenario

type SideParams struct {
	ErrRate, Err4xxRate float64
	P50, P99            float64 // milliseconds
}

type ALBParams struct {
	RPM            float64
	Stable, Canary SideParams
}

func (a *ALB) BaseParams() ALBParams {
	side := func(s Side) SideParams {
		return SideParams{ErrRate: *s.ErrorRate, Err4xxRate: *s.Error4xxRate, P50: *s.LatencyP50Ms, P99: *s.LatencyP99Ms}
	}
	return ALBParams{RPM: a.RequestsPerMinute, Stable: side(a.Stable), Canary: side(a.Canary)}
}

func (sp *SideParams) Apply(s *Side) {
	if s == nil {
		return
	}
	if s.ErrorRate != nil {
		sp.ErrRate = *s.ErrorRate
	}
	if s.Error4xxRate != nil {
		sp.Err4xxRate = *s.Error4xxRate
	}
	if s.LatencyP50Ms != nil {
		sp.P50 = *s.LatencyP50Ms
	}
	if s.LatencyP99Ms != nil {
		sp.P99 = *s.LatencyP99Ms
	}
}

func (p *ALBParams) Apply(ev *Event) {
	if ev.RequestsPerMinute != nil {
		p.RPM = *ev.RequestsPerMinute
	}
	p.Stable.Apply(ev.Both)
	p.Canary.Apply(ev.Both)
	p.Stable.Apply(ev.Stable)
	p.Canary.Apply(ev.Canary)
}

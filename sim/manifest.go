package sim

// Manifest describes the seeded targets; endpoint is the URL clients use.
func (s *Sim) Manifest(endpoint string) Manifest {
	return Manifest{
		Endpoint: endpoint,
		Region:   s.region,
		Account:  s.account,
		Scenario: s.scenario.Name,
		Targets:  append([]ManifestTarget(nil), s.targets...),
	}
}

package model

// FetchCost is what a metrics fetch cost: what the fleet's status bar
// shows and what CloudWatch bills.
type FetchCost struct {
	Calls      int // GetMetricData requests, NextToken pages included
	Queries    int // MetricDataQueries sent, expressions included
	Metrics    int // MetricStat queries: CloudWatch bills per metric requested
	Datapoints int // values returned
}

// Add accumulates o into c.
func (c *FetchCost) Add(o FetchCost) {
	c.Calls += o.Calls
	c.Queries += o.Queries
	c.Metrics += o.Metrics
	c.Datapoints += o.Datapoints
}

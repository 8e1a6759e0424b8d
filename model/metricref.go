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

// MetricStat is a CloudWatch metric and the statistic to read of it, as a
// custom signal names it (perch.yaml) and as the adapters query it.
type MetricStat struct {
	Namespace  string
	Name       string
	Dimensions []Dimension
	Stat       string
}

// Dimension is a CloudWatch dimension. In perch.yaml its value may hold
// ${side.KEY} placeholders until they are filled for a side.
type Dimension struct {
	Name  string
	Value string
}

// MetricInput is one named metric of a metric-math expression.
type MetricInput struct {
	ID     string
	Metric MetricStat
}

package ir

// Tracing sends spans of a listener's requests over OTLP gRPC.
type Tracing struct {
	// Cluster is the collector's cluster, among Config.Clusters.
	Cluster string `json:"cluster"`
	// ServiceName names the proxy in its spans.
	ServiceName string `json:"serviceName"`
	// SamplePercent is the share of requests sampled (0 to 100), whether
	// or not they carry a sampled trace context.
	SamplePercent float64 `json:"samplePercent"`
	// NewTraces ignores the trace context requests carry: every request
	// starts a trace of its own, and the backend sees that one only.
	NewTraces bool `json:"newTraces,omitempty"`
}

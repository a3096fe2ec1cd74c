package ir

// ErrorPages replaces a backend's responses of some statuses with the
// answer of an internal request, which keeps the original status: the
// client gets that status with the body the internal request got.
type ErrorPages struct {
	// Statuses are the backend statuses that are replaced.
	Statuses []uint32 `json:"statuses"`
	// Token is the value of InternalHeader on the internal request, for
	// path "/" of InternalHost: the secret, a space and the cluster that
	// answers; the route of InternalHost that matches it serves it.
	Token string `json:"token"`
	// StatusHeader names the request header that tells the internal
	// request the original status.
	StatusHeader string `json:"statusHeader"`
	// RequestHeaders are set on the internal request.
	RequestHeaders []Header `json:"requestHeaders,omitempty"`
}

// InternalHost is the authority of the internal requests of ErrorPages.
// The name ends in ".invalid", which no DNS name does (RFC 2606), and its
// routes also require InternalHeader with the translation's secret, so a
// client that sends this Host reaches none of them.
const InternalHost = "rukou-internal.invalid"

// InternalHeader carries the secret that admits a request to the routes
// of InternalHost.
const InternalHeader = "x-rukou-internal"

package ir

// TLSParams are the protocol versions, cipher suites and key exchange
// curves a TLS listener offers, the same for every certificate.
type TLSParams struct {
	// MinVersion and MaxVersion bound the protocol versions.
	MinVersion TLSVersion `json:"minVersion"`
	MaxVersion TLSVersion `json:"maxVersion"`
	// CipherSuites are the TLS 1.2 (and older) suites, by their OpenSSL
	// names from CipherSuites(), in the server's order of preference;
	// TLS 1.3 suites are not configurable. Empty keeps the backend's own.
	CipherSuites []string `json:"cipherSuites,omitempty"`
	// Curves are the key exchange groups, by names from Curves(), in
	// order of preference. Empty keeps the backend's own.
	Curves []string `json:"curves,omitempty"`
}

// TLSVersion is a version of the TLS protocol.
type TLSVersion string

// The TLS versions a listener may offer; SSL 2 and 3 are not among them.
const (
	TLS10 TLSVersion = "TLSv1"
	TLS11 TLSVersion = "TLSv1.1"
	TLS12 TLSVersion = "TLSv1.2"
	TLS13 TLSVersion = "TLSv1.3"
)

// TLSVersions lists the versions, oldest first.
func TLSVersions() []TLSVersion { return []TLSVersion{TLS10, TLS11, TLS12, TLS13} }

// CipherSuites lists the TLS 1.2 cipher suites a listener may name: those
// for a certificate's key (RSA or ECDSA) that the backend renders, by
// their OpenSSL names, strongest first. Suites such as DHE ones, which
// some TLS libraries have dropped, are not here, so that a frontend can
// refuse them before any proxy would.
func CipherSuites() []string {
	return []string{
		"ECDHE-ECDSA-AES128-GCM-SHA256", "ECDHE-RSA-AES128-GCM-SHA256",
		"ECDHE-ECDSA-AES256-GCM-SHA384", "ECDHE-RSA-AES256-GCM-SHA384",
		"ECDHE-ECDSA-CHACHA20-POLY1305", "ECDHE-RSA-CHACHA20-POLY1305",
		"ECDHE-ECDSA-AES128-SHA256", "ECDHE-RSA-AES128-SHA256",
		"ECDHE-ECDSA-AES128-SHA", "ECDHE-RSA-AES128-SHA",
		"ECDHE-ECDSA-AES256-SHA", "ECDHE-RSA-AES256-SHA",
		"AES128-GCM-SHA256", "AES256-GCM-SHA384",
		"AES128-SHA", "AES256-SHA", "DES-CBC3-SHA",
	}
}

// Curves lists the key exchange groups a listener may name.
func Curves() []string {
	return []string{"X25519MLKEM768", "X25519", "P-256", "P-384", "P-521"}
}

// ClientValidation is how a TLS chain checks client certificates. The
// handshake completes whatever the client sends: routes decide what a
// missing or failing certificate gets (Match.ClientCert).
type ClientValidation struct {
	// CA names the Secret (with CA set) that verifies certificates.
	CA string `json:"ca"`
	// Depth is how many certificates may stand between the client's own
	// and one of CA's, nginx's ssl_verify_depth: 1 admits certificates
	// that a CA signed directly.
	Depth uint32 `json:"depth"`
}

// CertMatch is what a route asks of the client's certificate; nil fields
// ask nothing.
type CertMatch struct {
	// Presented says whether the client sent a certificate.
	Presented *bool `json:"presented,omitempty"`
	// Validated says whether it sent one that its chain's CA verified,
	// within the depth, unexpired and unrevoked.
	Validated *bool `json:"validated,omitempty"`
	// SubjectLacks, when set, holds when the certificate's subject (an
	// RFC 2253 name) contains no match of this RE2 expression, or when
	// there is no certificate.
	SubjectLacks string `json:"subjectLacks,omitempty"`
}

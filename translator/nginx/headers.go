package nginx

import (
	"fmt"
	"slices"
	"strings"

	"github.com/rukou/rukou/translator/internal/valid"
	"github.com/rukou/rukou/translator/ir"
)

// HeaderSettings are the ConfigMap's keys about the headers that every
// request to a backend, or every response, carries.
type HeaderSettings struct {
	// ProxySetHeaders and AddHeaders name (namespace/name) the ConfigMaps
	// whose entries are headers set on requests to the backends and on
	// responses to clients; empty names none.
	ProxySetHeaders, AddHeaders string
	// NoRequestID makes no X-Request-ID for requests without one
	// (generate-request-id: "false").
	NoRequestID bool
	// OriginalURI sends the request's URI as X-Original-URI
	// (proxy-add-original-uri-header).
	OriginalURI bool
	// Hide are response headers of the backends that clients never see
	// (hide-headers).
	Hide []string
	// AllowedResponseHeaders are the names custom-headers may set
	// (global-allowed-response-headers).
	AllowedResponseHeaders []string
}

// readHeaderKeys reads the header keys.
func readHeaderKeys(r *reader, s *Settings) {
	h := &s.Headers
	h.NoRequestID = !r.boolean("generate-request-id", true)
	h.OriginalURI = r.boolean("proxy-add-original-uri-header", false)
	h.ProxySetHeaders = readConfigMapName(r, "proxy-set-headers")
	h.AddHeaders = readConfigMapName(r, "add-headers")
	if v, ok := r.get("hide-headers"); ok {
		for _, name := range strings.Split(v, ",") {
			name = strings.TrimSpace(name)
			switch {
			case name == "":
			case !settable(name):
				r.issue("hide-headers", ir.ReasonInvalidConfigValue, "%q is not a header name rukou can remove; the others are removed", name)
			default:
				h.Hide = append(h.Hide, strings.ToLower(name))
			}
		}
	}
}

// readConfigMapName reads a key that names another ConfigMap, as
// namespace/name (ingress-nginx finds it by that key).
func readConfigMapName(r *reader, key string) string {
	v, ok := r.get(key)
	if !ok || v == "" {
		return ""
	}
	ns, name, found := strings.Cut(v, "/")
	// A namespace is one DNS label; a name a DNS subdomain (no wildcard).
	if !found || !valid.Host(ns) || !valid.Host(name) || strings.ContainsAny(ns, ".*") || strings.Contains(name, "*") {
		r.invalid(key, "is not a ConfigMap's namespace/name", "no header is set")
		return ""
	}
	return v
}

// settable reports whether a header may be set or removed by name: a
// token, and neither a pseudo-header nor Host, which Envoy refuses to
// change that way (upstream-vhost changes the Host).
func settable(name string) bool {
	return valid.Token(name) && !strings.EqualFold(name, "host")
}

// headerValues are the variables a header value may hold: what is known of
// a request when it is forwarded.
var headerValues = map[ir.LogValue]bool{
	ir.LogClientAddress: true, ir.LogClientPort: true, ir.LogTimeLocal: true, ir.LogTimeISO8601: true,
	ir.LogStartSeconds: true, ir.LogMethod: true, ir.LogPath: true, ir.LogPathOnly: true, ir.LogQuery: true,
	ir.LogProtocol: true, ir.LogHost: true, ir.LogScheme: true, ir.LogRequestHeader: true, ir.LogRequestID: true,
	ir.LogVirtualHost: true, ir.LogServerPort: true, ir.LogTLSProtocol: true, ir.LogTLSCipher: true,
	ir.LogHTTP2: true, ir.LogHostname: true,
}

// ReadHeaders reads the entries of a ConfigMap that proxy-set-headers or
// add-headers names: header names and values, in which nginx variables
// are read as in a log format. A header rukou cannot set as written is
// reported under its name and left out; an empty value removes the
// header, as nginx sends no header whose value is empty.
func ReadHeaders(data map[string]string) ([]ir.Header, []Issue) {
	var out []ir.Header
	var issues []Issue
	names := make([]string, 0, len(data))
	for name := range data {
		names = append(names, name)
	}
	slices.Sort(names)
	for _, name := range names {
		h, err := readHeader(name, data[name])
		if err != nil {
			issues = append(issues, Issue{Name: name, Reason: ir.ReasonInvalidConfigValue, Msg: err.Error() + "; the header is not set"})
			continue
		}
		out = append(out, h)
	}
	return out, issues
}

func readHeader(name, value string) (ir.Header, error) {
	if !settable(name) {
		return ir.Header{}, fmt.Errorf("%q is not a header name rukou can set (a token, not Host)", name)
	}
	for i := 0; i < len(value); i++ {
		if c := value[i]; c < 0x20 && c != '\t' || c == 0x7f {
			return ir.Header{}, fmt.Errorf("the value holds a control character (%q)", c)
		}
	}
	fields, err := ParseLogFormat(value)
	if err != nil {
		return ir.Header{}, err
	}
	h := ir.Header{Name: name}
	for _, f := range fields {
		if f.Value != "" && !headerValues[f.Value] {
			return ir.Header{}, fmt.Errorf("the value's variables are not all known when the request is forwarded")
		}
	}
	if len(fields) == 1 && fields[0].Value == "" {
		h.Value = fields[0].Text
	} else if len(fields) > 0 {
		h.Fields = fields
	}
	return h, nil
}

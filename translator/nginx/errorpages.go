package nginx

import (
	"regexp"
	"strconv"
	"strings"

	"github.com/rukou/rukou/translator/ir"
)

// serviceName is a Service's name (an RFC 1035 label).
var serviceName = regexp.MustCompile(`^[a-z]([-a-z0-9]{0,61}[a-z0-9])?$`)

// ErrorPages is what an Ingress asks of its backends' error responses
// (custom-http-errors, default-backend, disable-proxy-intercept-errors).
type ErrorPages struct {
	// Statuses, when not nil, replace the ConfigMap's custom-http-errors.
	Statuses []uint32
	// Service, when set, names the Service of the Ingress's namespace
	// whose answer replaces those responses, instead of the controller's
	// default backend.
	Service string
	// Off passes every backend response through as it is.
	Off bool
}

// statusList reads a comma-separated list of client and server error
// statuses (400 to 599), as ingress-nginx's custom-http-errors; each entry
// that is not one is reported and left out. Nil when entries were given
// and none could be used, so that the defaults apply.
func (r *reader) statusList(name string) []uint32 {
	v, _ := r.get(name)
	out, bad := []uint32{}, false
	for _, field := range strings.Split(v, ",") {
		field = strings.TrimSpace(field)
		if field == "" {
			continue
		}
		n, err := strconv.ParseUint(field, 10, 32)
		if err != nil || n < 400 || n > 599 {
			r.issue(name, ir.ReasonInvalidAnnotation, "%q is not a status from 400 to 599; left out", field)
			bad = true
			continue
		}
		out = append(out, uint32(n))
	}
	if bad && len(out) == 0 {
		return nil
	}
	return out
}

// readCustomHTTPErrors reads the ConfigMap's custom-http-errors.
func readCustomHTTPErrors(r *reader, s *Settings) {
	if _, ok := r.get("custom-http-errors"); ok {
		s.CustomHTTPErrors = r.statusList("custom-http-errors")
	}
}

// readErrorPages reads custom-http-errors, default-backend and
// disable-proxy-intercept-errors of an Ingress.
func readErrorPages(r *reader, a *Annotations) {
	var e ErrorPages
	if _, ok := r.get("custom-http-errors"); ok {
		e.Statuses = r.statusList("custom-http-errors")
	}
	e.Service = r.pattern("default-backend", serviceName, "")
	e.Off = r.boolean("disable-proxy-intercept-errors", false)
	if e.Statuses != nil || e.Service != "" || e.Off {
		a.policy().ErrorPages = &e
	}
}

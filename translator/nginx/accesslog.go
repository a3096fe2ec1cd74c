package nginx

import (
	"regexp"
	"strings"

	"github.com/rukou/rukou/translator/internal/valid"
	"github.com/rukou/rukou/translator/ir"
)

// AccessLogSettings are the ConfigMap's access-log keys, read.
type AccessLogSettings struct {
	// Fields, or JSON when log-format-escape-json applies, are the line
	// of log-format-upstream; both nil mean ingress-nginx's default.
	Fields []ir.LogField
	JSON   []ir.LogMember
	// Off turns the access log off (disable-access-log).
	Off bool
	// Stderr writes it on the standard error (access-log-path:
	// /dev/stderr).
	Stderr bool
	// DefaultBackend logs the requests that no rule serves
	// (enable-access-log-for-default-backend).
	DefaultBackend bool
	// Skip are the request URIs left out (skip-access-log-urls).
	Skip []ir.StringMatch
}

// DefaultLogFields are the fields of DefaultLogFormat.
func DefaultLogFields() []ir.LogField {
	fields, err := ParseLogFormat(DefaultLogFormat)
	if err != nil {
		// The default is a constant that this package's tests parse.
		panic(err)
	}
	return fields
}

// readAccessLog reads the access-log keys. A format rukou cannot write is
// reported with the variables at fault, and the default format applies.
func readAccessLog(r *reader, s *Settings) {
	l := &s.AccessLog
	l.Off = r.boolean("disable-access-log", false)
	l.DefaultBackend = r.boolean("enable-access-log-for-default-backend", false)
	// As in ingress-nginx, http-access-log-path wins over access-log-path.
	l.Stderr = readLogPath(r, "access-log-path", false)
	l.Stderr = readLogPath(r, "http-access-log-path", l.Stderr)
	l.Skip = readSkipURLs(r)
	escapeJSON := r.boolean("log-format-escape-json", false)
	// As in ingress-nginx, escape=none wins over escape=json.
	if r.boolean("log-format-escape-none", false) {
		escapeJSON = false
	}
	format, ok := r.get("log-format-upstream")
	if !ok {
		return
	}
	if escapeJSON {
		members, err := ParseLogJSON(format)
		if err == nil {
			l.JSON = members
			return
		}
		if _, textErr := ParseLogFormat(format); textErr == nil {
			// A line that is not a JSON object: Envoy escapes the values
			// of JSON lines only.
			r.issue("log-format-escape-json", ir.ReasonInvalidConfigValue, "log-format-upstream is not a JSON object (%v); its values are written unescaped", err)
		}
	}
	fields, err := ParseLogFormat(format)
	if err != nil {
		r.invalid("log-format-upstream", "cannot be written: "+err.Error(), "the default format applies")
		return
	}
	l.Fields = fields
}

// readSkipURLs reads skip-access-log-urls: the request URIs (path and
// query) that ingress-nginx maps to "not loggable", matched as nginx's map
// matches them: a string exactly, ignoring case; "~RE" or "~*RE" (ignoring
// case) a regular expression found anywhere in the URI (RE2 here).
func readSkipURLs(r *reader) []ir.StringMatch {
	v, ok := r.get("skip-access-log-urls")
	if !ok {
		return nil
	}
	var out []ir.StringMatch
	for _, u := range strings.Split(v, ",") {
		u = strings.TrimSpace(u)
		re, isRegex := strings.CutPrefix(u, "~")
		switch {
		case u == "":
		case isRegex:
			if rest, ok := strings.CutPrefix(re, "*"); ok {
				re = "(?i)" + rest
			}
			re = ".*(?:" + re + ").*"
			if _, err := regexp.Compile(re); err != nil || !valid.Printable(u) {
				r.issue("skip-access-log-urls", ir.ReasonInvalidConfigValue, "%q is not a regular expression rukou can use (RE2); the others apply", u)
				continue
			}
			out = append(out, ir.StringMatch{Regex: re})
		case !valid.Printable(u) || strings.ContainsAny(u, " \t"):
			r.issue("skip-access-log-urls", ir.ReasonInvalidConfigValue, "%q is not a URI; the others apply", u)
		default:
			out = append(out, ir.StringMatch{Exact: u, IgnoreCase: true})
		}
	}
	return out
}

// readLogPath reads a log path key, and reports whether it asks for the
// standard error (def when it is not set). Envoy writes rukou's access log
// on its standard output or error; a file path is reported, and the
// standard output applies.
func readLogPath(r *reader, name string, def bool) (stderr bool) {
	v, ok := r.get(name)
	if !ok {
		return def
	}
	switch v {
	case "/dev/stdout", "/var/log/nginx/access.log":
		return false
	case "/dev/stderr":
		return true
	}
	r.invalid(name, "is a file; rukou's Envoy writes the access log on its standard output or error only (/dev/stdout, /dev/stderr)", "the standard output applies")
	return false
}

// readErrorLogPath reads error-log-path: Envoy writes its own log on its
// standard error, whatever the key says.
func readErrorLogPath(r *reader, _ *Settings) {
	if v, ok := r.get("error-log-path"); ok && v != "/dev/stderr" && v != "/var/log/nginx/error.log" {
		r.invalid("error-log-path", "is not /dev/stderr; Envoy writes its own log on its standard error only", "the standard error applies")
	}
}

package nginx

import (
	"fmt"
	"regexp"
	"regexp/syntax"
	"slices"
	"strings"
)

// Compression is how responses are compressed with one method (gzip or
// brotli), as ingress-nginx's ConfigMap sets it for every server.
type Compression struct {
	// On compresses responses (use-gzip, enable-brotli).
	On bool
	// Level is the compression level (gzip-level 1 to 9, brotli-level 0
	// to 11).
	Level uint32
	// MinLength is the smallest Content-Length compressed, in bytes.
	MinLength uint32
	// Types are the media types compressed, always with text/html as
	// nginx adds it; "*" alone compresses every type.
	Types []string
	// DisableUserAgent is an RE2 expression, case-insensitive: requests
	// whose User-Agent it matches get no compressed response
	// (gzip-disable); empty disables nothing.
	DisableUserAgent string
}

// ingress-nginx's default gzip-types and brotli-types.
const (
	defaultGzipTypes   = "application/atom+xml application/javascript application/x-javascript application/json application/rss+xml application/vnd.ms-fontobject application/x-font-ttf application/x-web-app-manifest+json application/xhtml+xml application/xml font/opentype image/svg+xml image/x-icon text/css text/javascript text/plain text/x-component"
	defaultBrotliTypes = "application/xml+rss " + defaultGzipTypes
)

// defaultGzip and defaultBrotli are ingress-nginx's defaults: off; gzip at
// level 1 from 256 bytes, brotli at level 4 from 20 bytes.
func defaultGzip() Compression {
	return Compression{Level: 1, MinLength: 256, Types: mediaTypes(defaultGzipTypes)}
}

func defaultBrotli() Compression {
	return Compression{Level: 4, MinLength: 20, Types: mediaTypes(defaultBrotliTypes)}
}

// mediaType is a media type as nginx's *_types take it: type/subtype, or
// "*" for every type.
var mediaType = regexp.MustCompile(`^(\*|[A-Za-z0-9][A-Za-z0-9!#$&^_.+-]*/[A-Za-z0-9][A-Za-z0-9!#$&^_.+-]*)$`)

// mediaTypes splits a list of media types, lowercased, with text/html
// first (nginx always compresses it) and without repeats.
func mediaTypes(list string) []string {
	out := []string{"text/html"}
	for _, t := range strings.Fields(strings.ToLower(list)) {
		if !slices.Contains(out, t) {
			out = append(out, t)
		}
	}
	if slices.Contains(out, "*") {
		return []string{"*"}
	}
	return out
}

// readCompression reads the gzip and brotli keys.
func readCompression(r *reader, s *Settings) {
	s.Gzip.On = r.boolean("use-gzip", s.Gzip.On)
	readMethod(r, &s.Gzip, "gzip-level", "gzip-min-length", "gzip-types", 1, 9)
	s.Gzip.DisableUserAgent = readGzipDisable(r)
	s.Brotli.On = r.boolean("enable-brotli", s.Brotli.On)
	readMethod(r, &s.Brotli, "brotli-level", "brotli-min-length", "brotli-types", 0, 11)
}

// readMethod reads one method's level (from lo to hi), minimum length and
// media types.
func readMethod(r *reader, c *Compression, level, minLength, types string, lo, hi int64) {
	if n, ok := r.number(level, lo, hi); ok {
		c.Level = uint32(n)
	}
	if n, ok := r.number(minLength, 0, 1<<32-1); ok {
		c.MinLength = uint32(n)
	}
	v, ok := r.get(types)
	if !ok {
		return
	}
	for _, t := range strings.Fields(v) {
		if !mediaType.MatchString(t) {
			r.invalid(types, fmt.Sprintf("holds %q, which is not a media type such as text/css or *", t), "using the default list")
			return
		}
	}
	c.Types = mediaTypes(v)
}

// msie6 is what nginx's gzip_disable mask "msie6" stands for, without its
// exception of Internet Explorer 6 with SV1, which RE2 cannot say.
const msie6 = `MSIE [4-6]\.`

// readGzipDisable reads gzip-disable: one regular expression that nginx
// matches against the User-Agent, ignoring case, or the mask "msie6". An
// expression RE2 cannot run (back-references, look-arounds) is reported
// and disables nothing.
func readGzipDisable(r *reader) string {
	v, ok := r.get("gzip-disable")
	if !ok || v == "" {
		return ""
	}
	if v == "msie6" {
		return "(?i)" + msie6
	}
	if _, err := syntax.Parse(v, syntax.Perl); err != nil {
		r.invalid("gzip-disable", "is not a regular expression RE2 can run ("+err.Error()+")", "compressing for every client")
		return ""
	}
	return "(?i)" + v
}

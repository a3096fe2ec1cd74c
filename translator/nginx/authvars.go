package nginx

import (
	"fmt"
	"regexp"
	"strings"

	"github.com/rukou/rukou/translator/ir"
)

// nginxVar is a variable in nginx text: $name or ${name}.
var nginxVar = regexp.MustCompile(`\$(?:\{([A-Za-z0-9_]+)\}|([A-Za-z0-9_]+))`)

// nginxValues maps the nginx variables that external authentication may
// use to the request values the limiter fills in. The ones ingress-nginx
// defines itself ($best_http_host, $pass_access_scheme, $escaped_request_uri,
// $req_id) are taken as it sets them without use-forwarded-headers.
var nginxValues = map[string]ir.RequestValue{
	"host": ir.ValueHost, "http_host": ir.ValueAuthority, "best_http_host": ir.ValueAuthority,
	"scheme": ir.ValueScheme, "pass_access_scheme": ir.ValueScheme,
	"request_uri": ir.ValueRequestURI, "escaped_request_uri": ir.ValueEscapedRequestURI,
	"uri": ir.ValuePath, "document_uri": ir.ValuePath, "args": ir.ValueQuery, "query_string": ir.ValueQuery,
	"request_method": ir.ValueMethod, "remote_addr": ir.ValueClientAddress, "remote_user": ir.ValueRemoteUser,
}

// nginxPrefixed are the variables that name a header, a query parameter or
// a cookie after their prefix.
var nginxPrefixed = []struct {
	prefix string
	value  ir.RequestValue
}{{"http_", ir.ValueHeader}, {"arg_", ir.ValueQueryParam}, {"cookie_", ir.ValueCookie}}

// nginxText reads text with nginx variables into a Text; a variable
// rukou cannot fill is an error, never passed on as text.
func nginxText(s string) (ir.Text, error) {
	var out ir.Text
	last := 0
	for _, m := range nginxVar.FindAllStringSubmatchIndex(s, -1) {
		if m[0] > last {
			out = append(out, ir.TextPart{Literal: s[last:m[0]]})
		}
		var name string
		if m[2] >= 0 {
			name = s[m[2]:m[3]] // ${name}
		} else {
			name = s[m[4]:m[5]] // $name
		}
		part, ok := nginxValue(name)
		if !ok {
			return nil, fmt.Errorf("holds the nginx variable $%s, which rukou does not know", name)
		}
		out = append(out, part)
		last = m[1]
	}
	if strings.Contains(s[last:], "$") || strings.Contains(literalText(out), "$") {
		return nil, fmt.Errorf("holds a $ that starts no nginx variable")
	}
	if last < len(s) {
		out = append(out, ir.TextPart{Literal: s[last:]})
	}
	return out, nil
}

// nginxValue is the request value of one nginx variable.
func nginxValue(name string) (ir.TextPart, bool) {
	if v, ok := nginxValues[name]; ok {
		return ir.TextPart{Value: v}, true
	}
	for _, p := range nginxPrefixed {
		if rest, ok := strings.CutPrefix(name, p.prefix); ok && rest != "" {
			if p.value == ir.ValueHeader {
				rest = strings.ReplaceAll(rest, "_", "-")
			}
			return ir.TextPart{Value: p.value, Name: strings.ToLower(rest)}, true
		}
	}
	return ir.TextPart{}, false
}

func literalText(t ir.Text) string {
	var b strings.Builder
	for _, p := range t {
		b.WriteString(p.Literal)
	}
	return b.String()
}

package envoy

import (
	xds_core_v3 "github.com/cncf/xds/go/xds/core/v3"
	xds_type_matcher_v3 "github.com/cncf/xds/go/xds/type/matcher/v3"
	envoy_config_core_v3 "github.com/envoyproxy/go-control-plane/envoy/config/core/v3"
	envoy_extensions_common_matching_v3 "github.com/envoyproxy/go-control-plane/envoy/extensions/common/matching/v3"
	envoy_extensions_compression_brotli_compressor_v3 "github.com/envoyproxy/go-control-plane/envoy/extensions/compression/brotli/compressor/v3"
	envoy_extensions_compression_gzip_compressor_v3 "github.com/envoyproxy/go-control-plane/envoy/extensions/compression/gzip/compressor/v3"
	envoy_extensions_filters_common_matcher_action_v3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/common/matcher/action/v3"
	envoy_extensions_filters_http_compressor_v3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/http/compressor/v3"
	envoy_extensions_filters_network_http_connection_manager_v3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/network/http_connection_manager/v3"
	envoy_type_matcher_v3 "github.com/envoyproxy/go-control-plane/envoy/type/matcher/v3"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/wrapperspb"

	"github.com/rukou/rukou/translator/ir"
)

// compressorFilter names the compressor filter of a method.
func compressorFilter(m ir.CompressionMethod) string {
	return "envoy.filters.http.compressor." + string(m)
}

// compressor renders one method of response compression: only responses
// to clients that accept it, of the listed types and at least MinLength
// long, never requests. Among several compressors, the first wins where
// the client accepts several as much. Like nginx, it weakens a strong
// ETag rather than drop it, and adds Vary: Accept-Encoding.
func compressor(c *ir.Compression, first bool) proto.Message {
	common := &envoy_extensions_filters_http_compressor_v3.Compressor_CommonDirectionConfig{
		MinContentLength: wrapperspb.UInt32(c.MinLength),
		// Every type when none is listed; Envoy's own default list is
		// shorter.
		ContentTypeMatcher: []*envoy_type_matcher_v3.StringMatcher{{
			MatchPattern: &envoy_type_matcher_v3.StringMatcher_SafeRegex{SafeRegex: &envoy_type_matcher_v3.RegexMatcher{Regex: ".*"}},
		}},
	}
	if len(c.MediaTypes) > 0 {
		common.ContentTypeMatcher = make([]*envoy_type_matcher_v3.StringMatcher, 0, len(c.MediaTypes))
		for _, t := range c.MediaTypes {
			common.ContentTypeMatcher = append(common.ContentTypeMatcher, &envoy_type_matcher_v3.StringMatcher{
				MatchPattern: &envoy_type_matcher_v3.StringMatcher_Exact{Exact: t}, IgnoreCase: true,
			})
		}
	}
	return &envoy_extensions_filters_http_compressor_v3.Compressor{
		CompressorLibrary: &envoy_config_core_v3.TypedExtensionConfig{
			Name:        "envoy.compression." + string(c.Method) + ".compressor",
			TypedConfig: mustAny(compressionLibrary(c)),
		},
		ResponseDirectionConfig: &envoy_extensions_filters_http_compressor_v3.Compressor_ResponseDirectionConfig{
			CommonConfig:         common,
			WeakenEtagOnCompress: true,
		},
		ChooseFirst: first,
	}
}

func compressionLibrary(c *ir.Compression) proto.Message {
	if c.Method == ir.Brotli {
		return &envoy_extensions_compression_brotli_compressor_v3.Brotli{Quality: wrapperspb.UInt32(c.Level)}
	}
	return &envoy_extensions_compression_gzip_compressor_v3.Gzip{
		CompressionLevel: envoy_extensions_compression_gzip_compressor_v3.Gzip_CompressionLevel(c.Level),
	}
}

// skippedForUserAgents wraps a compressor so that requests whose
// User-Agent matches the expression (anywhere in it) skip it.
func skippedForUserAgents(filter proto.Message, name, userAgent string) proto.Message {
	return &envoy_extensions_common_matching_v3.ExtensionWithMatcher{
		ExtensionConfig: &envoy_config_core_v3.TypedExtensionConfig{Name: name, TypedConfig: mustAny(filter)},
		XdsMatcher: &xds_type_matcher_v3.Matcher{
			MatcherType: &xds_type_matcher_v3.Matcher_MatcherList_{MatcherList: &xds_type_matcher_v3.Matcher_MatcherList{
				Matchers: []*xds_type_matcher_v3.Matcher_MatcherList_FieldMatcher{{
					Predicate: &xds_type_matcher_v3.Matcher_MatcherList_Predicate{
						MatchType: &xds_type_matcher_v3.Matcher_MatcherList_Predicate_SinglePredicate_{
							SinglePredicate: &xds_type_matcher_v3.Matcher_MatcherList_Predicate_SinglePredicate{
								Input: &xds_core_v3.TypedExtensionConfig{
									Name:        "user-agent",
									TypedConfig: mustAny(&envoy_type_matcher_v3.HttpRequestHeaderMatchInput{HeaderName: "user-agent"}),
								},
								Matcher: &xds_type_matcher_v3.Matcher_MatcherList_Predicate_SinglePredicate_ValueMatch{
									// A matcher's expression must match the
									// whole value; nginx's, any part of it.
									ValueMatch: &xds_type_matcher_v3.StringMatcher{MatchPattern: &xds_type_matcher_v3.StringMatcher_SafeRegex{
										SafeRegex: &xds_type_matcher_v3.RegexMatcher{
											Regex:      ".*(?:" + userAgent + ").*",
											EngineType: &xds_type_matcher_v3.RegexMatcher_GoogleRe2{GoogleRe2: &xds_type_matcher_v3.RegexMatcher_GoogleRE2{}},
										},
									}},
								},
							},
						},
					},
					OnMatch: skipFilter,
				}},
			}},
		},
	}
}

// skipFilter is the match action that skips a filter wrapped in a
// matcher, for the request that matched.
var skipFilter = &xds_type_matcher_v3.Matcher_OnMatch{OnMatch: &xds_type_matcher_v3.Matcher_OnMatch_Action{
	Action: &xds_core_v3.TypedExtensionConfig{
		Name:        "skip",
		TypedConfig: mustAny(&envoy_extensions_filters_common_matcher_action_v3.SkipFilter{}),
	},
}}

// compressors are the filters of a listener's compression methods, in
// order; none when the listener compresses nothing.
func compressors(methods []*ir.Compression) []*envoy_extensions_filters_network_http_connection_manager_v3.HttpFilter {
	out := make([]*envoy_extensions_filters_network_http_connection_manager_v3.HttpFilter, 0, len(methods))
	for i, c := range methods {
		name := compressorFilter(c.Method)
		config := compressor(c, i == 0 && len(methods) > 1)
		if c.SkipUserAgent != "" {
			config = skippedForUserAgents(config, name, c.SkipUserAgent)
		}
		out = append(out, &envoy_extensions_filters_network_http_connection_manager_v3.HttpFilter{
			Name:       name,
			ConfigType: &envoy_extensions_filters_network_http_connection_manager_v3.HttpFilter_TypedConfig{TypedConfig: mustAny(config)},
		})
	}
	return out
}

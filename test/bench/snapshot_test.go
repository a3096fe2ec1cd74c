package bench

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"testing"
	"time"

	discoveryv1 "k8s.io/api/discovery/v1"

	"github.com/rukou/rukou/translator"
	"github.com/rukou/rukou/xds"
)

// BenchmarkTranslateAndSnapshot is one full rebuild as `rukou serve` runs
// it after any change: translate every object, then version the resources
// by content and set the snapshot. Each iteration changes one endpoint, so
// every snapshot is new. 10,000 Services with 50,000 endpoints throughout.
func BenchmarkTranslateAndSnapshot(b *testing.B) {
	for _, n := range []int{100, 1000, 10000} {
		b.Run(fmt.Sprintf("ingresses=%d", n), func(b *testing.B) {
			in, err := Standard(n).Input(b.TempDir())
			if err != nil {
				b.Fatal(err)
			}
			ctx := context.Background()
			opts := translator.DefaultOptions()
			srv, res := served(b, in, opts)
			var translate, snapshot time.Duration
			i := 0
			for b.Loop() {
				i++
				changeOneEndpoint(in, i)
				start := time.Now()
				res, err := translator.Translate(in, opts)
				if err != nil {
					b.Fatal(err)
				}
				mid := time.Now()
				if err := srv.Update(ctx, res.Resources); err != nil {
					b.Fatal(err)
				}
				translate += mid.Sub(start)
				snapshot += time.Since(mid)
			}
			b.ReportMetric(ms(translate)/float64(i), "translate-ms/op")
			b.ReportMetric(ms(snapshot)/float64(i), "snapshot-ms/op")
			b.ReportMetric(float64(len(res.Resources.Clusters)), "clusters")
		})
	}
}

// changeOneEndpoint replaces the first EndpointSlice by a copy whose first
// address depends on i. Objects in an Input are shared and never modified.
// served translates in and serves it from a new in-process xDS server.
func served(b *testing.B, in translator.Input, opts translator.Options) (*xds.Server, *translator.Result) {
	b.Helper()
	srv := xds.New(slog.New(slog.NewTextHandler(io.Discard, nil)), xds.Options{})
	res, err := translator.Translate(in, opts)
	if err != nil {
		b.Fatal(err)
	}
	if err := srv.Update(context.Background(), res.Resources); err != nil {
		b.Fatal(err)
	}
	return srv, res
}

func changeOneEndpoint(in translator.Input, i int) {
	es := in.EndpointSlices[0].DeepCopy()
	es.Endpoints = append([]discoveryv1.Endpoint(nil), es.Endpoints...)
	es.Endpoints[0].Addresses = []string{fmt.Sprintf("10.255.%d.%d", i>>8&0xff, i&0xff)}
	in.EndpointSlices[0] = es
}

func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }

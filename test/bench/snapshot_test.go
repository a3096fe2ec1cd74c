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
	"github.com/rukou/rukou/watcher"
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
			opts := translator.DefaultOptions()
			srv, res := served(b, in, opts)
			rebuildLoop(b, in, srv, "translate-ms/op", func() *translator.Resources {
				next, err := translator.Translate(in, opts)
				if err != nil {
					b.Fatal(err)
				}
				res = next
				return next.Resources
			})
			b.ReportMetric(float64(len(res.Resources.Clusters)), "clusters")
		})
	}
}

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

// changeOneEndpoint replaces the first EndpointSlice by a copy whose first
// address depends on i. Objects in an Input are shared and never modified.
func changeOneEndpoint(in translator.Input, i int) {
	es := in.EndpointSlices[0].DeepCopy()
	es.Endpoints = append([]discoveryv1.Endpoint(nil), es.Endpoints...)
	es.Endpoints[0].Addresses = []string{fmt.Sprintf("10.255.%d.%d", i>>8&0xff, i&0xff)}
	in.EndpointSlices[0] = es
}

func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }

// rebuildLoop is b's loop over endpoint changes: each changes one endpoint
// of in (changeOneEndpoint), then times step, which returns the resources
// to serve, and the xDS server's Update of them apart, reported per change
// as stepMetric and snapshot-ms/op.
func rebuildLoop(b *testing.B, in translator.Input, srv *xds.Server, stepMetric string, step func() *translator.Resources) {
	ctx := context.Background()
	var stepped, snapshot time.Duration
	i := 0
	for b.Loop() {
		i++
		changeOneEndpoint(in, i)
		start := time.Now()
		res := step()
		mid := time.Now()
		if err := srv.Update(ctx, res); err != nil {
			b.Fatal(err)
		}
		stepped += mid.Sub(start)
		snapshot += time.Since(mid)
	}
	b.ReportMetric(ms(stepped)/float64(i), stepMetric)
	b.ReportMetric(ms(snapshot)/float64(i), "snapshot-ms/op")
}

// BenchmarkNewIngress is the rebuild `rukou serve` makes for one new
// Ingress among n: each iteration adds to the store a new Service and its
// EndpointSlice, as a user creates them with the Ingress, and the Ingress,
// then reads the store's input, translates and versions everything, as
// serve's rebuild does. mode=full translates from nothing;
// mode=after translates after the result before (translator.TranslateAfter,
// as serve does), reusing the Envoy resources of the hosts and clusters
// that did not change.
func BenchmarkNewIngress(b *testing.B) {
	for _, n := range []int{1000, 10000} {
		for _, mode := range []string{"full", "after"} {
			b.Run(fmt.Sprintf("ingresses=%d/mode=%s", n, mode), func(b *testing.B) {
				store, err := Standard(n).Store(b.TempDir())
				if err != nil {
					b.Fatal(err)
				}
				in := store.Input()
				opts := translator.DefaultOptions()
				srv, res := served(b, in, opts)
				model := in.Ingresses[0]
				ctx := context.Background()
				var input, translate, snapshot time.Duration
				i := 0
				for b.Loop() {
					ing := model.DeepCopy()
					ing.Name = fmt.Sprintf("new-%05d", i)
					svc, slice := in.Services[0].DeepCopy(), in.EndpointSlices[0].DeepCopy()
					svc.Name, slice.Name = ing.Name, ing.Name+"-1"
					svc.Namespace, slice.Namespace = ing.Namespace, ing.Namespace
					slice.Labels = map[string]string{discoveryv1.LabelServiceName: svc.Name}
					ing.Spec.Rules[0].Host = ing.Name + ".bench.example"
					ing.Spec.Rules[0].HTTP.Paths[0].Backend.Service.Name = svc.Name
					i++
					start := time.Now()
					store.Upsert(watcher.DirSource, svc)
					store.Upsert(watcher.DirSource, slice)
					store.Upsert(watcher.DirSource, ing)
					store.TakeChanges()
					next := store.Input()
					read := time.Now()
					prev := res
					if mode == "full" {
						prev = nil
					}
					if res, err = translator.TranslateAfter(prev, next, opts); err != nil {
						b.Fatal(err)
					}
					mid := time.Now()
					if err := srv.Update(ctx, res.Resources); err != nil {
						b.Fatal(err)
					}
					input += read.Sub(start)
					translate += mid.Sub(read)
					snapshot += time.Since(mid)
				}
				b.ReportMetric(ms(input)/float64(i), "input-ms/op")
				b.ReportMetric(ms(translate)/float64(i), "translate-ms/op")
				b.ReportMetric(ms(snapshot)/float64(i), "snapshot-ms/op")
			})
		}
	}
}

package bench

import (
	"fmt"
	"testing"

	"k8s.io/apimachinery/pkg/runtime"

	"github.com/rukou/rukou/translator"
	"github.com/rukou/rukou/watcher"
)

// BenchmarkEndpointChange is rukou's part of one endpoint change, as
// `rukou serve` runs it once the debounce lets the change through: the
// store hears one changed EndpointSlice (as from the API server), the
// rebuild takes the changes, reads the slices of the Service named,
// recomputes its assignment (translator.UpdateServiceEndpoints) and hands
// the result to the xDS server, which versions it and sets the snapshot.
// No Envoy: BenchmarkServe10k measures the change end to end. The cost
// should not grow with the number of Ingresses.
func BenchmarkEndpointChange(b *testing.B) {
	for _, n := range []int{1000, 10000} {
		b.Run(fmt.Sprintf("ingresses=%d", n), func(b *testing.B) {
			in, err := Standard(n).Input(b.TempDir())
			if err != nil {
				b.Fatal(err)
			}
			store := watcher.NewStore()
			var objs []runtime.Object
			for _, o := range in.IngressClasses {
				objs = append(objs, o)
			}
			for _, o := range in.Ingresses {
				objs = append(objs, o)
			}
			for _, o := range in.Services {
				objs = append(objs, o)
			}
			for _, o := range in.EndpointSlices {
				objs = append(objs, o)
			}
			store.Replace(watcher.KubeSource, objs)
			store.TakeChanges()
			srv, res := served(b, store.Input(), translator.DefaultOptions())
			rebuildLoop(b, in, srv, "endpoints-ms/op", func() *translator.Resources {
				store.Upsert(watcher.KubeSource, in.EndpointSlices[0])
				changes := store.TakeChanges()
				if !changes.OnlyEndpoints() || len(changes.Services) != 1 {
					b.Fatalf("changes %+v, want one Service's endpoints", changes)
				}
				next, err := translator.UpdateServiceEndpoints(res, changes.Services, translator.Input{EndpointSlices: store.EndpointSlicesOf(changes.Services)})
				if err != nil {
					b.Fatal(err)
				}
				if next.Resources.Endpoints[0] == res.Resources.Endpoints[0] {
					b.Fatal("the changed endpoint did not change the first assignment")
				}
				res = next
				return next.Resources
			})
		})
	}
}

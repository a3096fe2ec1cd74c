// Command backend is the demo backend of `make run` and of the end-to-end
// tests that need a backend in another network namespace: it answers every
// request with a JSON description of it.
//
// It may import only the standard library and its echo package.
package main

import (
	"context"
	"errors"
	"flag"
	"log"
	"net/http"
	"os/signal"
	"syscall"
	"time"

	"github.com/rukou/rukou/examples/backend/echo"
)

func main() {
	name := flag.String("name", "backend", "name the backend reports in every answer")
	listen := flag.String("listen", "127.0.0.1:9081", "address to listen on")
	flag.Parse()

	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
	defer stop()
	srv := &http.Server{Addr: *listen, Handler: echo.Handler(*name), ReadHeaderTimeout: 10 * time.Second}
	go func() {
		<-ctx.Done()
		_ = srv.Close()
	}()
	log.Printf("backend %q listening on %s", *name, *listen)
	if err := srv.ListenAndServe(); err != nil && !errors.Is(err, http.ErrServerClosed) {
		log.Fatal(err)
	}
}

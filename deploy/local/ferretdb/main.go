// Command ferretdb runs FerretDB v1 (MongoDB wire protocol on SQLite) through its
// embeddable package. `go install .../cmd/ferretdb@v1.24.2` builds a binary that
// panics at start-up (its build/version/version.txt is generated and not in the
// module zip), while the embeddable package skips that check.
package main

import (
	"context"
	"flag"
	"log"
	"log/slog"
	"net/http"
	_ "net/http/pprof" // profiles at -debug-addr, when given
	"os"
	"os/signal"
	"syscall"

	"github.com/FerretDB/FerretDB/ferretdb"
)

func main() {
	listen := flag.String("listen-addr", "127.0.0.1:27018", "TCP address to listen on")
	sqlite := flag.String("sqlite-url", "file:data/", "SQLite directory URI (must end with /)")
	debug := flag.String("debug-addr", "", "TCP address for Go's pprof handlers (off when empty)")
	flag.Parse()
	if *debug != "" {
		go func() { log.Println(http.ListenAndServe(*debug, nil)) }()
	}

	logger := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
	f, err := ferretdb.New(&ferretdb.Config{
		Listener:  ferretdb.ListenerConfig{TCP: *listen},
		Logger:    logger,
		Handler:   "sqlite",
		SQLiteURL: *sqlite,
	})
	if err != nil {
		log.Fatal(err)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	log.Printf("FerretDB listening on %s (sqlite %s)", *listen, *sqlite)
	if err := f.Run(ctx); err != nil {
		log.Fatal(err)
	}
}

package main

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"github.com/lanchat/lanchat/discovery"
	"github.com/lanchat/lanchat/internal/password"
	"github.com/lanchat/lanchat/internal/wire"
	"github.com/lanchat/lanchat/rendezvous"
	"github.com/lanchat/lanchat/rendezvous/pgbus"
	"github.com/lanchat/lanchat/rendezvous/store"
)

// dbFile is the store's file name inside the data directory.
const dbFile = "rendezvous.db"

func cmdServe(args []string, stdout, stderr io.Writer) error {
	return serve(context.Background(), args, stdout, stderr)
}

// serve runs the server until parent ends or a signal comes (parent ends
// when the Windows service manager stops the service).
func serve(parent context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlags("serve", "rendezvous serve --listen 127.0.0.1:7443 --data /var/lib/lanchat", stderr)
	listen := fs.String("listen", ":7443", "TCP address to listen on")
	data := fs.String("data", "", "data directory (database, certificate); created if missing")
	storeFlag := fs.String("store", "", storeFlagHelp)
	certFile := fs.String("tls-cert", "", "PEM certificate to use instead of the self-signed one")
	keyFile := fs.String("tls-key", "", "PEM private key for --tls-cert")
	metrics := fs.String("metrics", "", "address for Prometheus /metrics and /healthz (e.g. 127.0.0.1:9090)")
	pprofAddr := fs.String("pprof", "", pprofFlagHelp)
	maxFrame := fs.Int("max-frame", wire.DefaultMaxFrame, "largest frame accepted, in bytes")
	maxConns := fs.Int("max-conns", 50000, "most connections in all")
	perAddr := fs.Int("max-conns-per-addr", 64, "most connections from one IP address (IPv6: one /64)")
	registerRate := fs.Int("register-rate", 20, "accounts one IP address (IPv6: one /64) may register per hour")
	reqRate := fs.Float64("request-rate", 200, "requests per second one connection may make on average")
	idle := fs.Duration("idle-timeout", 90*time.Second, "close connections silent for this long")
	retention := fs.Duration("relay-retention", 30*24*time.Hour, "how long undelivered messages are kept")
	quotaCount := fs.Int("relay-quota-count", 10000, "most messages waiting for one recipient")
	quotaBytes := fs.Int64("relay-quota-bytes", 256<<20, "most bytes waiting for one recipient")
	senderCount := fs.Int("relay-sender-count", 1000, "most messages one sender may have waiting for one recipient")
	senderBytes := fs.Int64("relay-sender-bytes", 64<<20, "most bytes one sender may have waiting for one recipient")
	argonMem := fs.Uint("argon2-memory", uint(password.Default.Memory), "argon2id memory cost in KiB")
	argonTime := fs.Uint("argon2-time", uint(password.Default.Time), "argon2id passes")
	hashers := fs.Int("hash-concurrency", 0, "most password hashes at once (0: number of CPUs)")
	lobby := fs.String("lobby", "lobby", "the room every user is in from registration ('' for none)")
	roomMembers := fs.Int("room-members", 1000, "most members one room may have (the lobby too)")
	roomsPerUser := fs.Int("rooms-per-user", 100, "most rooms one user may be in")
	roomRate := fs.Int("room-rate", 60, "most messages one member may send to one room per minute")
	logLevel := fs.String("log-level", "info", "debug, info, warn or error")
	announce := fs.Bool("announce", false, "announce the server on the LAN (mDNS, _lanchat-server._tcp, with the certificate fingerprint) so new users find it")
	announceIface := fs.String("announce-iface", "", "announce only on this network interface")
	if err := parse(fs, args); err != nil {
		return err
	}
	if *data == "" {
		return fmt.Errorf("%w: --data is required", errUsage)
	}
	if *pprofAddr != "" {
		if err := checkPprofAddr(*pprofAddr); err != nil {
			return err
		}
	}
	if (*certFile == "") != (*keyFile == "") {
		return fmt.Errorf("%w: --tls-cert and --tls-key go together", errUsage)
	}
	var level slog.Level
	if err := level.UnmarshalText([]byte(*logLevel)); err != nil {
		return fmt.Errorf("%w: --log-level: %v", errUsage, err)
	}
	log := slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: level}))

	if err := os.MkdirAll(*data, 0o700); err != nil {
		return fmt.Errorf("create data directory: %w", err)
	}
	cert, err := loadCert(*data, *certFile, *keyFile, stdout)
	if err != nil {
		return err
	}

	ctx, stop := signal.NotifyContext(parent, os.Interrupt, syscall.SIGTERM)
	defer stop()

	where, err := storeLocation(*storeFlag, *data, true)
	if err != nil {
		return err
	}
	st, err := store.OpenAny(ctx, where)
	if err != nil {
		return err
	}
	defer st.Close()

	// Nodes on one PostgreSQL database serve as one: events cross
	// between them with NOTIFY.
	var bus rendezvous.Bus
	if pg, ok := st.(*store.Postgres); ok {
		bus = pgbus.New(pg, log.With("part", "cluster"))
	}

	m := rendezvous.NewMetrics()
	if rc, ok := any(st).(interface{ RelayCommits() (uint64, uint64) }); ok {
		m.WatchRelayCommits(rc.RelayCommits)
	}
	srv, err := rendezvous.New(rendezvous.Config{
		Bus:             bus,
		TLS:             rendezvous.TLSConfig(cert),
		MaxFrame:        *maxFrame,
		MaxConns:        *maxConns,
		MaxConnsPerAddr: *perAddr,
		RegisterRate:    *registerRate,
		IdleTimeout:     *idle,
		RequestRate:     *reqRate,
		RequestBurst:    int(2 * *reqRate),
		RelayRetention:  *retention,
		RelayQuota: store.Quota{MaxCount: *quotaCount, MaxBytes: *quotaBytes,
			SenderCount: *senderCount, SenderBytes: *senderBytes},
		Password:        password.Params{Memory: uint32(*argonMem), Time: uint32(*argonTime), Threads: 1},
		HashConcurrency: *hashers,
		Metrics:         m,
		Lobby:           *lobby,
		Rooms:           rendezvous.RoomLimits{Members: *roomMembers, PerUser: *roomsPerUser, Rate: *roomRate},
		Logger:          log,
	}, st)
	if err != nil {
		return err
	}
	ln, err := net.Listen("tcp", *listen)
	if err != nil {
		return fmt.Errorf("listen: %w", err)
	}
	fmt.Fprintf(stdout, "rendezvous listening on %s\n", ln.Addr())
	if *announce {
		ann, err := discovery.NewServerAnnouncer(discovery.ServerAnnouncerConfig{
			Port:        ln.Addr().(*net.TCPAddr).Port,
			Fingerprint: rendezvous.Fingerprint(cert),
			Iface:       *announceIface,
			Logger:      log.With("part", "mdns"),
		})
		if err != nil {
			ln.Close()
			return fmt.Errorf("announce: %w", err)
		}
		defer ann.Close()
		where := strings.Join(ann.Interfaces(), ", ")
		if where == "" {
			where = "no multicast interface is up yet; it keeps trying"
		}
		fmt.Fprintf(stdout, "announcing on the LAN as %s (%s)\n", discovery.ServerService, where)
	}

	errc := make(chan error, 3)
	go func() { errc <- srv.Serve(ln) }()
	metricsDone := make(chan struct{})
	mctx, mcancel := context.WithCancel(context.Background())
	defer func() {
		mcancel()
		<-metricsDone
	}()
	go func() {
		defer close(metricsDone)
		if *metrics == "" {
			return
		}
		if err := rendezvous.ServeMetrics(mctx, *metrics, m, srv.Health, log); err != nil {
			errc <- fmt.Errorf("metrics: %w", err)
		}
	}()

	pprofDone := make(chan struct{})
	defer func() {
		mcancel()
		<-pprofDone
	}()
	go func() {
		defer close(pprofDone)
		if *pprofAddr == "" {
			return
		}
		if err := servePprof(mctx, *pprofAddr, log); err != nil {
			errc <- err
		}
	}()

	select {
	case <-ctx.Done():
		log.Info("shutting down")
	case err := <-errc:
		if !errors.Is(err, rendezvous.ErrServerClosed) {
			sctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			srv.Shutdown(sctx)
			cancel()
			return err
		}
	}
	sctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := srv.Shutdown(sctx); err != nil {
		log.Warn("shutdown: connections closed by force", "err", err)
	}
	log.Info("stopped")
	return nil
}

// loadCert loads the operator's certificate, or the self-signed one in the
// data directory, making it on first start.
func loadCert(data, certFile, keyFile string, stdout io.Writer) (tls.Certificate, error) {
	if certFile != "" {
		cert, err := rendezvous.LoadCertificate(certFile, keyFile)
		if err != nil {
			return cert, err
		}
		fmt.Fprintf(stdout, "certificate fingerprint (sha256): %s\n", rendezvous.Fingerprint(cert))
		return cert, nil
	}
	cert, created, err := rendezvous.LoadOrCreateCertificate(data)
	if err != nil {
		return cert, err
	}
	if created {
		fmt.Fprintf(stdout, "created a self-signed certificate in %s\n", data)
	}
	fmt.Fprintf(stdout, "certificate fingerprint (sha256): %s\n", rendezvous.Fingerprint(cert))
	return cert, nil
}

func cmdFingerprint(args []string, stdout, stderr io.Writer) error {
	fs := newFlags("fingerprint", "rendezvous fingerprint --data /var/lib/lanchat", stderr)
	data := fs.String("data", "", "data directory")
	certFile := fs.String("tls-cert", "", "print the fingerprint of this certificate instead")
	if err := parse(fs, args); err != nil {
		return err
	}
	if *certFile == "" {
		if *data == "" {
			return fmt.Errorf("%w: --data or --tls-cert is required", errUsage)
		}
		*certFile = filepath.Join(*data, "server.crt")
	}
	fp, err := rendezvous.FingerprintFile(*certFile)
	if err != nil {
		return err
	}
	fmt.Fprintln(stdout, fp)
	return nil
}

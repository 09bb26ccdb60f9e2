package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"time"

	"github.com/lanchat/lanchat/rendezvous/store"
)

// storeFlagHelp documents --store, the same for every command.
const storeFlagHelp = "the database: postgres://USER@HOST/DB (several nodes share one), or a SQLite file (default: DIR/" + dbFile + " of --data)"

// storeLocation resolves --store and --data to what store.OpenAny takes.
// An existing SQLite file is required unless mayCreate.
func storeLocation(storeFlag, data string, mayCreate bool) (string, error) {
	if storeFlag != "" {
		if store.IsPostgresURL(storeFlag) || mayCreate {
			return storeFlag, nil
		}
		if _, err := os.Stat(storeFlag); err != nil {
			return "", fmt.Errorf("no server database at %s: %w", storeFlag, err)
		}
		return storeFlag, nil
	}
	if data == "" {
		return "", fmt.Errorf("%w: --data or --store is required", errUsage)
	}
	path := filepath.Join(data, dbFile)
	if !mayCreate {
		if _, err := os.Stat(path); err != nil {
			return "", fmt.Errorf("no server database in %s: %w", data, err)
		}
	}
	return path, nil
}

// cmdMigrate brings a database to the current schema and does nothing
// else: for upgrading a PostgreSQL database before starting new nodes.
func cmdMigrate(args []string, stdout, stderr io.Writer) error {
	fs := newFlags("migrate", "rendezvous migrate --store postgres://lanchat@db.example.org/lanchat", stderr)
	storeFlag := fs.String("store", "", storeFlagHelp)
	data := fs.String("data", "", "data directory of a server on SQLite")
	if err := parse(fs, args); err != nil {
		return err
	}
	return migrate(fs, *storeFlag, *data, stdout)
}

func migrate(fs *flag.FlagSet, storeFlag, data string, stdout io.Writer) error {
	if fs.NArg() != 0 {
		return fmt.Errorf("%w: migrate takes no arguments", errUsage)
	}
	where, err := storeLocation(storeFlag, data, true)
	if err != nil {
		return err
	}
	if data != "" && storeFlag == "" {
		if err := os.MkdirAll(data, 0o700); err != nil {
			return fmt.Errorf("create data directory: %w", err)
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	st, err := store.OpenAny(ctx, where)
	if err != nil {
		return err
	}
	if err := st.Close(); err != nil {
		return err
	}
	fmt.Fprintln(stdout, "database schema is up to date")
	return nil
}

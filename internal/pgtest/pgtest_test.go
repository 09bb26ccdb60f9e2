package pgtest

import (
	"context"
	"errors"
	"os"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
)

// A cluster starts, serves databases on its socket only, and leaves
// nothing behind when stopped.
func TestCluster(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	c, err := Start(ctx)
	if errors.Is(err, ErrNoPostgres) && os.Getenv("CI") != "true" {
		t.Skip(err)
	}
	if err != nil {
		t.Fatal(err)
	}
	url, err := c.CreateDatabase(ctx, "")
	if err != nil {
		c.Stop()
		t.Fatal(err)
	}
	conn, err := pgx.Connect(ctx, url)
	if err != nil {
		c.Stop()
		t.Fatal(err)
	}
	var listen string
	err = conn.QueryRow(ctx, `SHOW listen_addresses`).Scan(&listen)
	conn.Close(ctx)
	if err != nil || listen != "" {
		t.Errorf("listen_addresses = %q, %v; want none (socket only)", listen, err)
	}
	if DatabaseName(url) == "" {
		t.Errorf("no database name in %s", url)
	}
	if err := c.Stop(); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(c.dir); !os.IsNotExist(err) {
		t.Errorf("cluster directory left behind: %v", err)
	}
}

package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"text/tabwriter"
	"time"

	"github.com/lanchat/lanchat/internal/wire"
	"github.com/lanchat/lanchat/rendezvous/store"
)

func cmdUsers(args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		return fmt.Errorf("%w: users needs list, disable or enable", errUsage)
	}
	sub := args[0]
	fs := newFlags("users "+sub, "rendezvous users disable --data /var/lib/lanchat mallory", stderr)
	data := fs.String("data", "", "data directory")
	storeFlag := fs.String("store", "", storeFlagHelp)
	asJSON := fs.Bool("json", false, "machine-readable output (list)")
	if err := parse(fs, args[1:]); err != nil {
		return err
	}
	where, err := storeLocation(*storeFlag, *data, false)
	if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	st, err := store.OpenAny(ctx, where)
	if err != nil {
		return err
	}
	defer st.Close()

	switch sub {
	case "list":
		if fs.NArg() != 0 {
			return fmt.Errorf("%w: users list takes no arguments", errUsage)
		}
		return listUsers(ctx, st, stdout, *asJSON)
	case "disable", "enable":
		if fs.NArg() != 1 {
			return fmt.Errorf("%w: users %s takes one USER", errUsage, sub)
		}
		name, werr := wire.NormalizeUsername("USER", fs.Arg(0))
		if werr != nil {
			return fmt.Errorf("%w: %s", errUsage, werr.Message)
		}
		err := st.SetDisabled(ctx, name, sub == "disable", time.Now().UTC())
		if errors.Is(err, store.ErrNotFound) {
			return fmt.Errorf("no user %q", name)
		} else if err != nil {
			return fmt.Errorf("%s %s: %w", sub, name, err)
		}
		fmt.Fprintf(stdout, "%s %sd\n", name, sub)
		return nil
	default:
		return fmt.Errorf("%w: unknown users command %q", errUsage, sub)
	}
}

type userRow struct {
	Username    string    `json:"username"`
	DisplayName string    `json:"display_name,omitempty"`
	Disabled    bool      `json:"disabled"`
	Created     time.Time `json:"created"`
	LastSeen    time.Time `json:"last_seen,omitzero"`
}

func listUsers(ctx context.Context, st store.Store, w io.Writer, asJSON bool) error {
	users, err := st.Users(ctx)
	if err != nil {
		return fmt.Errorf("list users: %w", err)
	}
	rows := make([]userRow, 0, len(users))
	for _, u := range users {
		rows = append(rows, userRow{u.Name, u.DisplayName, u.Disabled, u.Created, u.LastSeen})
	}
	if asJSON {
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		return enc.Encode(rows)
	}
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "USERNAME\tDISPLAY NAME\tSTATE\tCREATED\tLAST SEEN")
	for _, r := range rows {
		state := "enabled"
		if r.Disabled {
			state = "disabled"
		}
		last := "never"
		if !r.LastSeen.IsZero() {
			last = r.LastSeen.Format(time.DateTime)
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\n", r.Username, r.DisplayName, state, r.Created.Format(time.DateTime), last)
	}
	return tw.Flush()
}

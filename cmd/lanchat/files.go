package main

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/lanchat/lanchat/peer/api"
	"golang.org/x/term"
)

// errTransfersFailed makes send-file exit non-zero when a transfer did
// not complete; what happened was already printed.
var errTransfersFailed = errors.New("not every transfer completed")

// progressEvery spaces the plain progress lines send-file prints when its
// output is not a terminal.
const progressEvery = time.Second

func cmdSendFile(e *env, c *command, args []string) error {
	fs := e.flags(c)
	noWait := fs.Bool("no-wait", false, "return once the transfer is offered (lanchat transfers shows it)")
	pos, err := e.parse(c, fs, args, 2, -1)
	if err != nil {
		return err
	}
	paths := make([]string, 0, len(pos)-1)
	for _, p := range pos[1:] {
		abs, err := filepath.Abs(p)
		if err != nil {
			return fmt.Errorf("%s: %w", p, err)
		}
		paths = append(paths, abs)
	}
	// Subscribe first, so no progress event is missed.
	var st *api.EventStream
	if !*noWait {
		if st, err = e.client.Events(e.ctx); err != nil {
			return err
		}
		defer st.Close()
	}
	res, err := e.client.SendFile(e.ctx, api.SendFileRequest{Target: pos[0], Paths: paths})
	if err != nil {
		return err
	}
	for _, sk := range res.Skipped {
		why := clean(sk.Reason)
		if why == "symbolic link" {
			why += ", not followed"
		}
		fmt.Fprintf(e.stderr, "skipped %s: %s\n", clean(sk.Path), why)
	}
	if e.json && *noWait {
		return printJSON(e.stdout, res)
	}
	for _, t := range res.Transfers {
		if !e.json {
			fmt.Fprintf(e.stdout, "offered %s (%s, %s) to %s: transfer %s\n", clean(t.Name), plural(t.Files, "file"), bytesText(t.Total), t.Peer, t.ID)
		}
	}
	if *noWait {
		return nil
	}
	return e.followTransfers(st, res.Transfers)
}

// followTransfers prints the progress of transfers until each is done,
// failed, or waiting for a path that is not there.
func (e *env) followTransfers(st *api.EventStream, ts []api.Transfer) error {
	left := make(map[string]api.Transfer, len(ts))
	for _, t := range ts {
		left[t.ID] = t
	}
	tty := isTerminal(e.stdout) && !e.json
	var last time.Time
	states := make(map[string]string, len(ts))
	for _, t := range ts {
		states[t.ID] = t.State
	}
	failed := 0
	report := func(t api.Transfer) {
		changed := states[t.ID] != t.State
		states[t.ID] = t.State
		switch {
		case e.json:
			if t.Final() {
				printJSON(e.stdout, t)
			}
		case t.Final():
			if tty {
				fmt.Fprint(e.stdout, "\r\033[K")
			}
			fmt.Fprintln(e.stdout, transferLine(t, e.now()))
		case tty:
			fmt.Fprintf(e.stdout, "\r\033[K%s", progressBar(t))
		case t.State != api.TransferActive:
			if changed {
				fmt.Fprintln(e.stdout, transferLine(t, e.now()))
			}
		case changed || time.Since(last) >= progressEvery:
			last = time.Now()
			fmt.Fprintln(e.stdout, progressText(t))
		}
	}
	// A transfer that cannot start (the recipient is offline) is queued:
	// it starts by itself later, and send-file does not wait for that.
	for id, t := range left {
		if t.State == api.TransferQueued {
			if cur, err := e.currentTransfer(id); err == nil {
				t = cur
			}
		}
		if t.State == api.TransferQueued && t.Error != "" {
			fmt.Fprintf(e.stdout, "queued: %s is not reachable directly now; the transfer starts by itself when they are\n", t.Peer)
			delete(left, id)
		}
	}
	for len(left) > 0 {
		ev, err := st.Next()
		switch {
		case e.ctx.Err() != nil:
			fmt.Fprintln(e.stderr, "\nstopped watching; the transfer goes on in the daemon (lanchat transfers, lanchat cancel ID)")
			return e.ctx.Err()
		case errors.Is(err, io.EOF):
			return errStreamEnded
		case err != nil:
			return fmt.Errorf("event stream: %w", err)
		}
		if ev.Type != api.EventTransfer || ev.Transfer == nil {
			continue
		}
		t := *ev.Transfer
		if _, ok := left[t.ID]; !ok {
			continue
		}
		report(t)
		switch {
		case t.Final():
			if t.State != api.TransferDone {
				failed++
			}
			delete(left, t.ID)
		case t.State == api.TransferQueued && t.Error != "":
			fmt.Fprintf(e.stdout, "queued: %s is not reachable directly now; the transfer starts by itself when they are\n", t.Peer)
			delete(left, t.ID)
		}
	}
	if failed > 0 {
		return fmt.Errorf("%d of %d transfers did not complete: %w", failed, len(ts), errTransfersFailed)
	}
	return nil
}

// currentTransfer reads one transfer's state from the daemon.
func (e *env) currentTransfer(id string) (api.Transfer, error) {
	ts, err := e.client.Transfers(e.ctx)
	if err != nil {
		return api.Transfer{}, err
	}
	for _, t := range ts {
		if t.ID == id {
			return t, nil
		}
	}
	return api.Transfer{}, fmt.Errorf("no transfer %s", id)
}

func cmdTransfers(e *env, c *command, args []string) error {
	if _, err := e.parse(c, e.flags(c), args, 0, 0); err != nil {
		return err
	}
	ts, err := e.client.Transfers(e.ctx)
	if err != nil {
		return err
	}
	if e.json {
		return printJSON(e.stdout, ts)
	}
	if len(ts) == 0 {
		fmt.Fprintln(e.stdout, "no transfers yet; send one with: lanchat send-file USER PATH")
		return nil
	}
	t := newTable(e.stdout, "ID", "DIR", "PEER", "STATE", "PROGRESS", "RATE", "NAME", "ERROR")
	for _, tr := range ts {
		dir := "to"
		if tr.Direction == api.DirectionReceive {
			dir = "from"
		}
		errText := "-"
		if tr.Error != "" && tr.State != api.TransferDone {
			errText = truncate(clean(tr.Error), 60)
		}
		t.row(tr.ID[:12], dir, tr.Peer, tr.State, fmt.Sprintf("%s of %s", bytesText(tr.Done), bytesText(tr.Total)), rateText(tr), clean(tr.Name), errText)
	}
	t.flush()
	if hasOffers(ts) {
		fmt.Fprintln(e.stdout, "accept an offer with: lanchat accept ID [--to DIR] (or reject ID)")
	}
	return nil
}

func hasOffers(ts []api.Transfer) bool {
	for _, t := range ts {
		if t.State == api.TransferOffered && t.Direction == api.DirectionReceive {
			return true
		}
	}
	return false
}

func cmdTransferAction(e *env, c *command, args []string) error {
	fs := e.flags(c)
	var to *string
	if c.name == "accept" {
		to = fs.String("to", "", "save into this folder instead of the downloads folder")
	}
	pos, err := e.parse(c, fs, args, 1, 1)
	if err != nil {
		return err
	}
	id, err := e.resolveTransferID(pos[0])
	if err != nil {
		return err
	}
	var req api.AcceptRequest
	if to != nil && *to != "" {
		if req.Dir, err = filepath.Abs(*to); err != nil {
			return err
		}
	}
	t, err := e.client.TransferAction(e.ctx, id, c.name, req)
	if err != nil {
		return err
	}
	return e.reply(t, "%s", transferLine(t, e.now()))
}

// resolveTransferID accepts a transfer id or a unique prefix of one (as
// lanchat transfers shows them).
func (e *env) resolveTransferID(prefix string) (string, error) {
	prefix = strings.ToLower(prefix)
	if len(prefix) == 32 {
		return prefix, nil
	}
	if len(prefix) < 4 {
		return "", usagef("transfer id %q is too short; give at least 4 characters of it", prefix)
	}
	ts, err := e.client.Transfers(e.ctx)
	if err != nil {
		return "", err
	}
	var match string
	for _, t := range ts {
		if strings.HasPrefix(t.ID, prefix) {
			if match != "" {
				return "", usagef("transfer id %q is ambiguous; give more of it", prefix)
			}
			match = t.ID
		}
	}
	if match == "" {
		return "", fmt.Errorf("no transfer %s (lanchat transfers lists them)", prefix)
	}
	return match, nil
}

// transferLine says in one line where a transfer stands.
func transferLine(t api.Transfer, now time.Time) string {
	who := "to " + t.Peer
	if t.Direction == api.DirectionReceive {
		who = "from " + t.Peer
	}
	name := clean(t.Name)
	switch t.State {
	case api.TransferDone:
		where := ""
		if t.Dir != "" {
			where = " into " + clean(t.Dir)
		}
		return fmt.Sprintf("done: %s %s (%s, %s)%s", name, who, plural(t.Files, "file"), bytesText(t.Total), where)
	case api.TransferOffered:
		return fmt.Sprintf("offered: %s %s (%s); waiting for an answer", name, who, bytesText(t.Total))
	default:
		line := fmt.Sprintf("%s: %s %s, %s of %s", t.State, name, who, bytesText(t.Done), bytesText(t.Total))
		if t.Error != "" {
			line += " (" + truncate(clean(t.Error), 120) + ")"
		}
		return line
	}
}

// progressText is a plain progress line.
func progressText(t api.Transfer) string {
	pct := 0.0
	if t.Total > 0 {
		pct = 100 * float64(t.Done) / float64(t.Total)
	}
	line := fmt.Sprintf("%s %s: %.1f%% %s of %s", t.State, clean(t.Name), pct, bytesText(t.Done), bytesText(t.Total))
	if t.Rate > 0 {
		line += fmt.Sprintf(", %s/s, %s left", bytesText(int64(t.Rate)), eta(t))
	}
	return line
}

// progressBar is a one-line bar for a terminal.
func progressBar(t api.Transfer) string {
	const width = 30
	frac := 0.0
	if t.Total > 0 {
		frac = float64(t.Done) / float64(t.Total)
	}
	n := min(int(frac*width), width)
	bar := strings.Repeat("#", n) + strings.Repeat(".", width-n)
	line := fmt.Sprintf("[%s] %5.1f%% %s/%s", bar, 100*frac, bytesText(t.Done), bytesText(t.Total))
	if t.Rate > 0 {
		line += fmt.Sprintf(" %s/s ETA %s", bytesText(int64(t.Rate)), eta(t))
	} else if t.State != api.TransferActive {
		line += " " + t.State
	}
	return line
}

func eta(t api.Transfer) string {
	if t.Rate <= 0 {
		return "?"
	}
	left := time.Duration(float64(t.Total-t.Done) / t.Rate * float64(time.Second))
	return left.Round(time.Second).String()
}

// bytesText writes n bytes for people: 1.5 GB, 320 kB.
func bytesText(n int64) string {
	const unit = 1000
	if n < unit {
		return fmt.Sprintf("%d B", n)
	}
	div, exp := int64(unit), 0
	for m := n / unit; m >= unit && exp < 5; m /= unit {
		div *= unit
		exp++
	}
	return fmt.Sprintf("%.1f %cB", float64(n)/float64(div), "kMGTPE"[exp])
}

// isTerminal reports whether w is a terminal.
func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	return ok && term.IsTerminal(int(f.Fd()))
}

// rateText is the current rate of a moving transfer, or the average of a
// finished one ("avg", from its offer to its end, waiting included).
func rateText(t api.Transfer) string {
	switch {
	case t.Rate > 0:
		return bytesText(int64(t.Rate)) + "/s"
	case t.State == api.TransferDone && t.Total > 0:
		if d := t.Updated.Sub(t.Created).Seconds(); d > 0 {
			return bytesText(int64(float64(t.Total)/d)) + "/s avg"
		}
	}
	return "-"
}

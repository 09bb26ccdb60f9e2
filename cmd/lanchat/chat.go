package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"sync"

	"golang.org/x/term"

	"github.com/lanchat/lanchat/peer/api"
	"github.com/lanchat/lanchat/peer/tui"
)

// chatBacklog is how many messages chat shows before going live.
const chatBacklog = 20

func cmdChat(e *env, c *command, args []string) error {
	pos, err := e.parse(c, e.flags(c), args, 0, 1)
	if err != nil {
		return err
	}
	target := ""
	if len(pos) == 1 {
		target = pos[0]
	}
	if isTerminal(e.stdout) && isTerminalReader(e.stdin) {
		return tui.Run(e.ctx, e.client, target, tui.Options{NoColor: os.Getenv("NO_COLOR") != ""})
	}
	if target == "" {
		return usageError(c, "without a terminal, chat needs a TARGET")
	}
	return chatLines(e, target)
}

// chatLines is chat without a terminal, for scripts: it prints the last
// messages and each one arriving, and sends each line read.
func chatLines(e *env, target string) error {
	ctx, cancel := context.WithCancel(e.ctx)
	defer cancel()

	// Subscribe before reading the backlog, so no message falls between.
	st, err := e.client.Events(ctx)
	if err != nil {
		return err
	}
	defer st.Close()
	backlog, err := e.client.History(ctx, target, chatBacklog, "", "")
	if err != nil {
		return err
	}
	out := &lockedWriter{w: e.stdout}
	shown := make(map[string]bool, len(backlog))
	for _, m := range backlog {
		shown[m.ID] = true
		out.printf("%s\n", messageLine(m, e.now(), false))
	}
	fmt.Fprintf(e.stderr, "chatting with %s; type a message and press Enter, /quit to leave\n", target)

	// Incoming messages of this conversation, as they arrive. Our own
	// come back as events too: they are skipped, the input shows them.
	streamErr := make(chan error, 1)
	go func() {
		for {
			ev, err := st.Next()
			if err != nil {
				streamErr <- err
				return
			}
			m := ev.Message
			if ev.Type != api.EventMessage || m == nil || m.Outgoing || shown[m.ID] || !strings.EqualFold(m.Conversation, target) {
				continue
			}
			out.printf("%s\n", messageLine(*m, e.now(), false))
		}
	}()

	lines := make(chan string)
	inputErr := make(chan error, 1)
	go func() {
		sc := bufio.NewScanner(e.stdin)
		sc.Buffer(make([]byte, 0, 4096), api.MaxText+1)
		for sc.Scan() {
			select {
			case lines <- sc.Text():
			case <-ctx.Done():
				return
			}
		}
		inputErr <- sc.Err()
	}()

	for {
		select {
		case <-ctx.Done():
			return nil
		case err := <-streamErr:
			if ctx.Err() != nil {
				return nil
			}
			if errors.Is(err, io.EOF) {
				return errStreamEnded
			}
			return fmt.Errorf("event stream: %w", err)
		case err := <-inputErr:
			if err != nil {
				return fmt.Errorf("read input: %w", err)
			}
			return nil // EOF
		case line := <-lines:
			text := strings.TrimRight(line, "\r")
			if strings.TrimSpace(text) == "/quit" {
				return nil
			}
			if strings.TrimSpace(text) == "" {
				continue
			}
			res, err := e.client.Send(ctx, api.SendRequest{Target: target, Text: text})
			if err != nil {
				var apiErr *api.Error
				if errors.As(err, &apiErr) {
					// Say it and carry on: the next line may go.
					fmt.Fprintf(e.stderr, "lanchat: %s\n", apiErr.Message)
					continue
				}
				return err
			}
			if res.Via != api.ViaDirect && res.Via != api.ViaRelay {
				fmt.Fprintf(e.stderr, "%s\n", sendLine(target, res))
			}
		}
	}
}

// lockedWriter lets the input loop and the event reader share stdout.
type lockedWriter struct {
	mu sync.Mutex
	w  io.Writer
}

func (l *lockedWriter) printf(format string, args ...any) {
	l.mu.Lock()
	defer l.mu.Unlock()
	fmt.Fprintf(l.w, format, args...)
}

// isTerminalReader reports whether r is a terminal.
func isTerminalReader(r io.Reader) bool {
	f, ok := r.(*os.File)
	return ok && term.IsTerminal(int(f.Fd()))
}

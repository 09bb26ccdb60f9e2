// Package tui is lanchat's full-screen terminal chat: a conversations
// pane, the open conversation, a multi-line input and a status line. It is
// a client of the daemon's local API only: every action is an API call,
// every change on screen comes from a reply or from the event stream.
package tui

import (
	"context"
	"errors"
	"fmt"
	"io"
	"time"

	tea "charm.land/bubbletea/v2"
	"github.com/charmbracelet/colorprofile"

	"github.com/lanchat/lanchat/peer/api"
)

// daemon is what the chat needs of the daemon's local API (*api.Client
// has it).
type daemon interface {
	Status(ctx context.Context) (api.Status, error)
	Friends(ctx context.Context) ([]api.Friend, error)
	FriendRequests(ctx context.Context) (api.FriendRequests, error)
	Friend(ctx context.Context, action, user string) (api.FriendResult, error)
	Recent(ctx context.Context) ([]api.Conversation, error)
	History(ctx context.Context, target string, limit int, search, before string) ([]api.Message, error)
	Send(ctx context.Context, req api.SendRequest) (api.SendResult, error)
	SendFile(ctx context.Context, req api.SendFileRequest) (api.SendFileResult, error)
	Transfers(ctx context.Context) ([]api.Transfer, error)
	TransferAction(ctx context.Context, id, action string, req api.AcceptRequest) (api.Transfer, error)
	Verify(ctx context.Context, user string) (api.Verification, error)
	Confirm(ctx context.Context, user string, req api.KeyRequest) (api.Verification, error)
	Trust(ctx context.Context, user string, req api.KeyRequest) (api.Contact, error)
	Focus(ctx context.Context, req api.FocusRequest) error
	Typing(ctx context.Context, req api.TypingRequest) error
}

// events is the daemon's event stream (*api.EventStream has it).
type events interface {
	Next() (api.Event, error)
}

// Options are the terminal the chat runs on.
type Options struct {
	In  io.Reader
	Out io.Writer
	// NoColor renders without colours (NO_COLOR is set).
	NoColor bool
}

// historyLimit is how many messages a conversation shows when opened.
const historyLimit = 200

// Run shows the chat until the user quits or ctx ends. target, if not
// empty, is the conversation opened first ("user" or "#group").
func Run(ctx context.Context, c *api.Client, target string, opt Options) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	// Subscribe before the first reads, so no event falls between.
	st, err := c.Events(ctx)
	if err != nil {
		return err
	}
	defer st.Close()

	m := newModel(ctx, c, st, target, opt.NoColor)
	popts := []tea.ProgramOption{tea.WithContext(ctx)}
	if opt.In != nil {
		popts = append(popts, tea.WithInput(opt.In))
	}
	if opt.Out != nil {
		popts = append(popts, tea.WithOutput(opt.Out))
	}
	if opt.NoColor {
		popts = append(popts, tea.WithColorProfile(colorprofile.Ascii))
	}
	final, err := tea.NewProgram(m, popts...).Run()
	if m.open != "" {
		// Notifications for the conversation shown resume now.
		fctx, fcancel := context.WithTimeout(context.WithoutCancel(ctx), 2*time.Second)
		c.Focus(fctx, api.FocusRequest{Client: m.client, Conversation: m.open})
		fcancel()
	}
	if err != nil && !errors.Is(err, tea.ErrProgramKilled) {
		return fmt.Errorf("terminal chat: %w", err)
	}
	if fm, ok := final.(*model); ok && fm.fatal != nil {
		return fm.fatal
	}
	return nil
}

package tui

import (
	"context"
	"fmt"
	"os"
	"strings"
	"time"

	"charm.land/bubbles/v2/key"
	"charm.land/bubbles/v2/textarea"
	"charm.land/bubbles/v2/viewport"
	tea "charm.land/bubbletea/v2"

	"github.com/lanchat/lanchat/peer/api"
)

// model is the chat's whole state. Bubble Tea owns it: only Update
// changes it, on its one goroutine; API calls run as commands and come
// back as messages.
type model struct {
	ctx    context.Context
	d      daemon
	stream events
	st     styles

	width, height int

	me          string
	server      bool
	peers       map[string]bool
	friends     map[string]api.Friend
	requests    map[string]bool // incoming friend requests, by user
	keyChanged  map[string]bool
	convs       []api.Conversation
	transfers   map[string]api.Transfer
	open        string // the conversation shown ("" for none)
	items       []item // what the conversation pane shows, oldest first
	loaded      bool   // items hold open's history
	input       textarea.Model
	view        viewport.Model
	status      string // the last note or error of the status line
	statusIsErr bool
	fatal       error       // ends the program with this error
	client      string      // this chat's name in focus calls
	typing      typingState // typing.go
}

// item is one entry of the conversation pane.
type item struct {
	at       time.Time
	msg      *api.Message
	transfer string // id of a transfer in model.transfers
	note     string
	warn     bool
}

// Messages from commands back to Update.
type (
	eventMsg     struct{ ev api.Event }
	streamEnd    struct{ err error }
	statusMsg    struct{ s api.Status }
	friendsMsg   struct{ fs []api.Friend }
	requestsMsg  struct{ r api.FriendRequests }
	recentMsg    struct{ cs []api.Conversation }
	transfersMsg struct{ ts []api.Transfer }
	historyMsg   struct {
		target string
		ms     []api.Message
	}
	sentMsg struct {
		target, text string
		res          api.SendResult
	}
	// noteMsg shows text in conversation target ("" for the status line).
	noteMsg struct {
		target string
		text   string
		warn   bool
	}
	errMsg    struct{ err error }
	focusTick struct{}
)

// focusEvery is how often the chat renews its focus (under
// notify.FocusTTL).
const focusEvery = 30 * time.Second

func newModel(ctx context.Context, d daemon, st events, target string, noColor bool) *model {
	in := textarea.New()
	in.ShowLineNumbers = false
	in.Prompt = "> "
	in.Placeholder = "Type a message; /help for commands"
	in.CharLimit = api.MaxText
	in.SetHeight(3)
	in.KeyMap.InsertNewline = key.NewBinding(key.WithKeys("alt+enter", "ctrl+j"))
	in.Focus()
	return &model{
		ctx:        ctx,
		d:          d,
		stream:     st,
		st:         newStyles(noColor),
		width:      80,
		height:     24,
		peers:      map[string]bool{},
		friends:    map[string]api.Friend{},
		requests:   map[string]bool{},
		keyChanged: map[string]bool{},
		transfers:  map[string]api.Transfer{},
		open:       target,
		client:     fmt.Sprintf("chat-%d", os.Getpid()),
		input:      in,
		view:       viewport.New(),
	}
}

func (m *model) Init() tea.Cmd {
	cmds := []tea.Cmd{m.nextEvent(), m.focus(), tea.Tick(focusEvery, func(time.Time) tea.Msg { return focusTick{} }), m.loadStatus(), m.loadFriends(), m.loadRequests(), m.loadRecent(), m.loadTransfers()}
	if m.open != "" {
		cmds = append(cmds, m.loadHistory(m.open))
	}
	return tea.Batch(cmds...)
}

func (m *model) Update(msg tea.Msg) (tea.Model, tea.Cmd) {
	switch msg := msg.(type) {
	case tea.WindowSizeMsg:
		m.width, m.height = msg.Width, msg.Height
		m.layout()
		return m, nil
	case tea.KeyPressMsg:
		return m, m.key(msg)
	case tea.PasteMsg:
		var cmd tea.Cmd
		m.input, cmd = m.input.Update(msg)
		return m, cmd
	case tea.MouseWheelMsg:
		var cmd tea.Cmd
		m.view, cmd = m.view.Update(msg)
		return m, cmd
	case eventMsg:
		return m, tea.Batch(m.event(msg.ev), m.nextEvent())
	case streamEnd:
		if m.ctx.Err() == nil {
			m.fatal = errStreamEnded
		}
		return m, tea.Quit
	case statusMsg:
		m.server = msg.s.ServerConnected
		if msg.s.Me != nil {
			m.me = msg.s.Me.Username
		}
		for _, p := range msg.s.Peers {
			m.peers[p] = true
		}
	case friendsMsg:
		for _, f := range msg.fs {
			m.friends[f.Username] = f
			if f.Held {
				m.keyChanged[f.Username] = true
			}
		}
		if m.open == "" {
			m.openFirst()
			if m.open != "" {
				return m, tea.Batch(m.loadHistory(m.open), m.focus())
			}
		}
	case requestsMsg:
		for _, r := range msg.r.Incoming {
			m.requests[r.User] = true
		}
		m.refresh()
	case recentMsg:
		m.convs = msg.cs
		if m.open == "" {
			m.openFirst()
			if m.open != "" {
				return m, tea.Batch(m.loadHistory(m.open), m.focus())
			}
		}
	case transfersMsg:
		for _, t := range msg.ts {
			m.transfers[t.ID] = t
		}
		m.refresh()
	case historyMsg:
		if msg.target == m.open {
			m.setHistory(msg.ms)
			return m, m.loadRecent() // History marked it read
		}
	case sentMsg:
		m.sent(msg)
	case noteMsg:
		m.note(msg.target, msg.text, msg.warn)
	case typingExpired:
		return m, nil // the status line redraws without the note
	case focusTick:
		return m, tea.Batch(m.focus(), tea.Tick(focusEvery, func(time.Time) tea.Msg { return focusTick{} }))
	case errMsg:
		m.setStatus(errText(msg.err), true)
	}
	return m, nil
}

// key handles one key press: global keys first, then the input's.
func (m *model) key(k tea.KeyPressMsg) tea.Cmd {
	switch k.String() {
	case "ctrl+c", "ctrl+d":
		return tea.Quit
	case "enter":
		return m.submit()
	case "tab":
		m.complete()
		return nil
	case "pgup":
		m.view.PageUp()
		return nil
	case "pgdown":
		m.view.PageDown()
		return nil
	case "ctrl+n", "alt+down":
		return m.switchBy(1)
	case "ctrl+p", "alt+up":
		return m.switchBy(-1)
	}
	var cmd tea.Cmd
	before := m.input.Value()
	m.input, cmd = m.input.Update(k)
	m.layout() // the input may have grown
	if m.input.Value() != before && !strings.HasPrefix(m.input.Value(), "/") {
		return tea.Batch(cmd, m.typed()) // typing.go
	}
	return cmd
}

// submit runs the input as a command or sends it as a message.
func (m *model) submit() tea.Cmd {
	text := strings.TrimRight(m.input.Value(), "\n")
	if strings.TrimSpace(text) == "" {
		return nil
	}
	c, isCmd, err := parseCommand(text)
	if err != nil {
		m.setStatus(err.Error(), true)
		return nil // the line stays for the user to fix
	}
	m.input.Reset()
	m.layout()
	if isCmd {
		return m.run(c)
	}
	if c.text != "" {
		text = c.text
	}
	return m.send(text)
}

// switchBy opens the conversation delta places down the list.
func (m *model) switchBy(delta int) tea.Cmd {
	names := m.convNames()
	if len(names) == 0 {
		return nil
	}
	i := 0
	for j, n := range names {
		if n == m.open {
			i = j
		}
	}
	i = (i + delta + len(names)) % len(names)
	return m.openConv(names[i])
}

// openConv shows conversation target.
func (m *model) openConv(target string) tea.Cmd {
	if target == m.open && m.loaded {
		return nil
	}
	m.open, m.items, m.loaded = target, nil, false
	m.refresh()
	return tea.Batch(m.loadHistory(target), m.focus())
}

// openFirst opens the most recent conversation, or the first friend.
func (m *model) openFirst() {
	if names := m.convNames(); len(names) > 0 {
		m.open = names[0]
	}
}

// focus tells the daemon which conversation the chat shows, so that it
// does not notify of it.
func (m *model) focus() tea.Cmd {
	if m.open == "" {
		return nil
	}
	ctx, d, req := m.ctx, m.d, api.FocusRequest{Client: m.client, Conversation: m.open, Open: true}
	return func() tea.Msg {
		d.Focus(ctx, req) // best effort: at worst a notification too many
		return nil
	}
}

func (m *model) setStatus(s string, isErr bool) {
	m.status, m.statusIsErr = s, isErr
}

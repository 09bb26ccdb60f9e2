package tui

import (
	"fmt"
	"sort"
	"strings"
	"time"

	tea "charm.land/bubbletea/v2"
	"charm.land/lipgloss/v2"

	"github.com/lanchat/lanchat/peer/api"
)

// listWidth is the width of the conversations pane; under minWidthForList
// columns it is hidden.
const (
	listWidth       = 24
	minWidthForList = 60
	inputHeight     = 3
)

// styles are the chat's looks, from the terminal's own palette (ANSI
// colours), or plain under NO_COLOR.
type styles struct {
	name, me, faint, warn, sel, online, head, status, statusErr, ok lipgloss.Style
}

func newStyles(noColor bool) styles {
	s := lipgloss.NewStyle
	if noColor {
		return styles{name: s().Bold(true), me: s().Bold(true), faint: s(), warn: s().Bold(true), sel: s().Reverse(true),
			online: s(), head: s().Bold(true), status: s(), statusErr: s().Bold(true), ok: s()}
	}
	return styles{
		name:      s().Bold(true).Foreground(lipgloss.Color("4")),
		me:        s().Bold(true).Foreground(lipgloss.Color("2")),
		faint:     s().Faint(true),
		warn:      s().Bold(true).Foreground(lipgloss.Color("1")),
		sel:       s().Reverse(true),
		online:    s().Foreground(lipgloss.Color("2")),
		head:      s().Bold(true),
		status:    s().Faint(true),
		statusErr: s().Foreground(lipgloss.Color("1")),
		ok:        s().Foreground(lipgloss.Color("2")),
	}
}

// paneWidth is the width of the conversation pane.
func (m *model) paneWidth() int {
	if m.width >= minWidthForList {
		return m.width - listWidth - 1
	}
	return m.width
}

// layout sizes the parts to the terminal.
func (m *model) layout() {
	w := max(m.paneWidth(), 10)
	bottom := m.atBottom()
	m.input.SetWidth(w)
	m.input.SetHeight(inputHeight)
	m.view.SetWidth(w)
	// header, separator and status line
	m.view.SetHeight(max(m.height-inputHeight-3, 1))
	m.view.SetContent(m.renderConversation(w))
	if bottom {
		m.view.GotoBottom()
	}
}

// atBottom reports whether the conversation shows its last line.
func (m *model) atBottom() bool {
	return m.view.AtBottom() || m.view.TotalLineCount() <= m.view.Height()
}

// refresh re-renders the conversation into the viewport, staying at the
// bottom if the user was there.
func (m *model) refresh() {
	bottom := m.atBottom()
	m.view.SetContent(m.renderConversation(max(m.paneWidth(), 10)))
	if bottom {
		m.view.GotoBottom()
	}
}

func (m *model) renderConversation(w int) string {
	if m.open == "" {
		return m.st.faint.Render("No conversations yet: add a friend (lanchat friend add NAME) or join a group (lanchat group join NAME).")
	}
	items := append([]item(nil), m.items...)
	covered := itemTransfers(items) // fileitems.go
	for id, t := range m.transfers {
		if convOf(t) == m.open && !covered[id] {
			items = append(items, item{at: t.Created, transfer: id})
		}
	}
	sort.SliceStable(items, func(i, j int) bool { return items[i].at.Before(items[j].at) })
	var lines []string
	if len(items) == 0 && m.loaded {
		lines = append(lines, m.st.faint.Render("No messages yet: say hello."))
	}
	wrap := lipgloss.NewStyle().Width(w)
	for _, it := range items {
		var line string
		switch {
		case it.msg != nil && it.msg.Transfer != nil:
			line = m.renderFile(*it.msg, w) // fileitems.go
		case it.msg != nil:
			line = m.renderMessage(*it.msg)
		case it.transfer != "":
			line = m.renderTransfer(m.transfers[it.transfer], w)
		case it.warn:
			line = m.st.warn.Render("! " + clean(it.note))
		default:
			line = m.st.faint.Render("· " + clean(it.note))
		}
		lines = append(lines, wrap.Render(line))
	}
	return strings.Join(lines, "\n")
}

func (m *model) renderMessage(msg api.Message) string {
	who := m.st.name.Render(cleanLine(msg.From))
	if msg.Outgoing {
		who = m.st.me.Render("you")
	}
	head := stamp(msg.Sent) + " "
	text := strings.ReplaceAll(clean(msg.Text), "\n", "\n"+strings.Repeat(" ", len(head)))
	line := m.st.faint.Render(head) + who + ": " + text
	if msg.Outgoing {
		line += " " + m.stateMark(msg)
	}
	return line
}

// stateMark is the quiet delivery state after an outgoing message.
func (m *model) stateMark(msg api.Message) string {
	switch {
	case msg.Via == api.ViaHeld:
		return m.st.warn.Render("held: key changed, /verify")
	case msg.State == "delivered":
		return m.st.ok.Render("✓✓ delivered")
	case msg.State == "sent":
		return m.st.faint.Render("✓ sent")
	case msg.State == "queued":
		return m.st.faint.Render("◷ queued")
	}
	return m.st.faint.Render(msg.State)
}

func (m *model) renderTransfer(t api.Transfer, w int) string {
	dir := "→"
	if t.Direction == api.DirectionReceive {
		dir = "←"
	}
	head := fmt.Sprintf("%s file %s (%s) %s", dir, cleanLine(t.Name), size(t.Total), t.State)
	switch t.State {
	case api.TransferOffered:
		if t.Direction == api.DirectionReceive {
			head += ": /accept or /reject"
		}
	case api.TransferActive, api.TransferWaiting:
		frac := 0.0
		if t.Total > 0 {
			frac = float64(t.Done) / float64(t.Total)
		}
		head += "\n  " + bar(frac, min(w-20, 40)) + fmt.Sprintf(" %3.0f%%", frac*100)
		if t.Rate > 0 {
			head += " " + size(int64(t.Rate)) + "/s"
		}
	case api.TransferFailed:
		return m.st.warn.Render(head + ": " + cleanLine(t.Error))
	case api.TransferDone:
		if t.Dir != "" {
			head += " in " + t.Dir
		}
	}
	return head
}

// bar is a progress bar of width cells.
func bar(frac float64, width int) string {
	width = max(width, 5)
	full := min(int(frac*float64(width)), width)
	return "[" + strings.Repeat("█", full) + strings.Repeat("░", width-full) + "]"
}

func size(n int64) string {
	const unit = 1024
	if n < unit {
		return fmt.Sprintf("%d B", n)
	}
	div, exp := int64(unit), 0
	for x := n / unit; x >= unit && exp < 5; x /= unit {
		div *= unit
		exp++
	}
	return fmt.Sprintf("%.1f %cB", float64(n)/float64(div), "kMGTPE"[exp])
}

// stamp is a message's time: the clock today, the date before.
func stamp(t time.Time) string {
	t = t.Local()
	if y, mo, d := time.Now().Date(); t.Year() == y && t.Month() == mo && t.Day() == d {
		return t.Format("15:04")
	}
	return t.Format("Jan 2 15:04")
}

func (m *model) View() tea.View {
	pw := max(m.paneWidth(), 10)
	right := lipgloss.JoinVertical(lipgloss.Left,
		m.header(pw),
		m.view.View(),
		m.st.faint.Render(strings.Repeat("─", pw)),
		m.input.View(),
	)
	body := right
	if m.width >= minWidthForList {
		h := max(m.height-1, 1)
		sep := strings.TrimSuffix(strings.Repeat("│\n", h), "\n")
		body = lipgloss.JoinHorizontal(lipgloss.Top, m.list(h), m.st.faint.Render(sep), right)
	}
	v := tea.NewView(lipgloss.JoinVertical(lipgloss.Left, body, m.statusLine()))
	v.AltScreen = true
	v.WindowTitle = "lanchat"
	if m.open != "" {
		v.WindowTitle = "lanchat: " + m.open
	}
	return v
}

// header names the open conversation with presence and trust.
func (m *model) header(w int) string {
	if m.open == "" {
		return m.st.head.Render("lanchat")
	}
	h := m.st.head.Render(cleanLine(m.open))
	if f, ok := m.friends[m.open]; ok {
		h += " · " + m.presence(f.Presence.Status) + " " + f.Presence.Status
		if f.Verified {
			h += " · verified"
		}
	}
	if m.keyChanged[m.open] {
		h += " · " + m.st.warn.Render("key changed: /verify")
	}
	return lipgloss.NewStyle().MaxWidth(w).Render(h)
}

func (m *model) presence(s string) string {
	if s == api.Online {
		return m.st.online.Render("●")
	}
	return m.st.faint.Render("○")
}

// list renders the conversations pane, height h.
func (m *model) list(h int) string {
	unread := map[string]int{}
	last := map[string]time.Time{}
	for _, c := range m.convs {
		unread[c.Target], last[c.Target] = c.Unread, c.LastActivity
	}
	lines := []string{m.st.head.Render(fit("Conversations", listWidth))}
	for _, n := range m.convNames() {
		if len(lines) >= h {
			break
		}
		dot := " "
		if f, ok := m.friends[n]; ok {
			dot = m.presence(f.Presence.Status)
		} else if strings.HasPrefix(n, "#") {
			dot = "#"
			n = strings.TrimPrefix(n, "#")
		}
		name := n
		if dot == "#" {
			name = "#" + n
			dot = " "
		}
		right := ""
		switch {
		case m.requests[name]:
			right = "request"
		case unread[name] > 0:
			right = fmt.Sprintf("(%d)", unread[name])
		case !last[name].IsZero():
			right = shortTime(last[name])
		}
		text := fit(cleanLine(name), listWidth-3-len(right)) + " " + right
		text = fit(text, listWidth-2)
		if name == m.open {
			text = m.st.sel.Render(text)
		} else if unread[name] > 0 {
			text = m.st.head.Render(text)
		}
		lines = append(lines, dot+" "+text)
	}
	for len(lines) < h {
		lines = append(lines, strings.Repeat(" ", listWidth))
	}
	return strings.Join(lines, "\n")
}

// statusLine shows the server link, direct peers, transfers moving and
// the last note.
func (m *model) statusLine() string {
	srv := "server connected"
	if !m.server {
		srv = "server unreachable: LAN contacts still go directly"
	}
	active := 0
	for _, t := range m.transfers {
		if t.State == api.TransferActive {
			active++
		}
	}
	s := fmt.Sprintf("%s · %d direct", srv, len(m.peers))
	if active > 0 {
		s += fmt.Sprintf(" · %d transfer(s)", active)
	}
	line := m.st.status.Render(s)
	if note := m.typingNote(); note != "" { // typing.go
		line += " │ " + m.st.status.Render(cleanLine(note))
	}
	if m.status != "" {
		st := m.st.status
		if m.statusIsErr {
			st = m.st.statusErr
		}
		line += " │ " + st.Render(cleanLine(m.status))
	}
	return lipgloss.NewStyle().MaxWidth(m.width).Render(line)
}

// fit pads or cuts s to w cells.
func fit(s string, w int) string {
	if w <= 0 {
		return ""
	}
	if lipgloss.Width(s) > w {
		r := []rune(s)
		for len(r) > 0 && lipgloss.Width(string(r))+1 > w {
			r = r[:len(r)-1]
		}
		return string(r) + "…"
	}
	return s + strings.Repeat(" ", w-lipgloss.Width(s))
}

func shortTime(t time.Time) string {
	t = t.Local()
	if time.Since(t) < 20*time.Hour {
		return t.Format("15:04")
	}
	return t.Format("Jan 2")
}

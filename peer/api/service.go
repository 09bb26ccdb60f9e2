// Package api is the daemon's local API: HTTP/JSON on a Unix socket, with a
// server-sent-events stream, as docs/api.md describes. The server side turns
// requests into calls on a Service, which the daemon implements; the client
// side is what the lanchat CLI (and any other front end) uses.
package api

import (
	"context"
	"errors"
	"time"
)

// Service is everything the daemon offers its local clients but the shared
// file libraries, which are a LibraryService of their own. Methods return
// an *Error (see errors.go) for failures the user should see, with a code the
// HTTP layer maps to a status; any other error is an internal failure.
type Service interface {
	// Status describes this daemon: who is logged in, the server link and
	// the direct peers connected.
	Status(ctx context.Context) (Status, error)

	Register(ctx context.Context, req RegisterRequest) (Me, error)
	Login(ctx context.Context, req LoginRequest) (Me, error)
	Logout(ctx context.Context) error
	Passwd(ctx context.Context, req PasswdRequest) error
	SetProfile(ctx context.Context, req ProfileRequest) (Me, error)

	SearchUsers(ctx context.Context, query string, limit int) ([]User, error)
	// Friends lists friends with presence and whether a direct path exists.
	Friends(ctx context.Context) ([]Friend, error)
	// FriendRequests lists pending requests both ways.
	FriendRequests(ctx context.Context) (FriendRequests, error)
	// Friend runs one of the FriendAdd… actions on user.
	Friend(ctx context.Context, action, user string) (FriendResult, error)

	// Send writes a text message to Target ("user" or "#group").
	Send(ctx context.Context, req SendRequest) (SendResult, error)
	// History returns the last messages of a conversation, oldest first,
	// and marks it read. Search, when set, filters by full-text search;
	// before, when set, is a message id: the messages just older than it
	// (the first id of one page is the cursor for the next).
	History(ctx context.Context, target string, limit int, search, before string) ([]Message, error)
	// Search searches every conversation, newest first.
	Search(ctx context.Context, text string, limit int) ([]Message, error)
	// Recent lists conversations by last activity, newest first.
	Recent(ctx context.Context) ([]Conversation, error)

	Groups(ctx context.Context) (Groups, error)
	// Group runs one of the GroupCreate… actions (GroupInviteUser for invite). Name names the group
	// (its name among this user's groups and invitations, or its id); User
	// is the invitee or the member kicked; NewName is for rename.
	Group(ctx context.Context, req GroupRequest) (Group, error)
	GroupMembers(ctx context.Context, name string) (GroupMembers, error)
	// TimelineService: typing (timeline.go).
	TimelineService

	// Verify returns the safety number shared with user and the
	// fingerprint of the key it is for.
	Verify(ctx context.Context, user string) (Verification, error)
	// Confirm marks user verified, only if req.Fingerprint is still that
	// of user's pinned key (the key whose number the user compared):
	// otherwise an *Error with CodeKeyChanged.
	Confirm(ctx context.Context, user string, req KeyRequest) (Verification, error)
	// Trust accepts user's pending (changed) identity key, only if
	// req.Fingerprint is that key's (the key whose number the user
	// compared): otherwise an *Error with CodeKeyChanged.
	Trust(ctx context.Context, user string, req KeyRequest) (Contact, error)

	// SendFile offers files and folders; Transfers lists transfers both
	// ways; TransferAction accepts, rejects or cancels one.
	SendFile(ctx context.Context, req SendFileRequest) (SendFileResult, error)
	Transfers(ctx context.Context) ([]Transfer, error)
	TransferAction(ctx context.Context, id, action string, req AcceptRequest) (Transfer, error)

	// Doctor runs diagnostic checks: server, UDP port and buffers,
	// multicast, direct paths to online contacts.
	Doctor(ctx context.Context) (Diagnosis, error)
	// Peers lists the lanchat daemons seen on the LAN.
	Peers(ctx context.Context) (LANPeers, error)

	// Focus records which conversation a client shows now, so that the
	// daemon's desktop notifications stay quiet for it.
	Focus(ctx context.Context, req FocusRequest) error

	// Subscribe returns a stream of events until ctx ends or the daemon
	// stops (then the channel is closed). A subscriber too slow to keep up
	// is dropped (its channel closed) rather than slowing the daemon.
	Subscribe(ctx context.Context) <-chan Event

	// Avatar returns the avatar kept for user (this user's own, or a
	// contact's); an *Error with CodeNotFound if there is none.
	Avatar(ctx context.Context, user string) (Avatar, error)
}

// Friend actions.
const (
	FriendAdd    = "add"
	FriendAccept = "accept"
	FriendReject = "reject"
	FriendRemove = "remove"
)

// Group actions.
const (
	GroupCreate     = "create"
	GroupInviteUser = "invite"
	GroupJoin       = "join"
	GroupLeave      = "leave"
	GroupKick       = "kick"
	GroupRename     = "rename"
	GroupDelete     = "delete"
)

// How a message left or arrived.
const (
	ViaDirect = "direct"
	ViaRelay  = "relay"
	ViaQueued = "queued" // waiting in the outbox
	// ViaHeld: waiting in the outbox because the recipient's identity
	// key changed and is not trusted yet.
	ViaHeld    = "held"
	ViaPartial = "partial"
)

// Presence statuses.
const (
	Online  = "online"
	Away    = "away"
	Offline = "offline"
)

// Status is the reply to GET /v1/status.
type Status struct {
	LoggedIn bool   `json:"logged_in"`
	Me       *Me    `json:"me,omitempty"`
	Home     string `json:"home"`
	// Server is the rendezvous server's address, its pinned fingerprint,
	// and whether the daemon is connected to it now.
	Server          string `json:"server"`
	Fingerprint     string `json:"fingerprint,omitempty"`
	ServerConnected bool   `json:"server_connected"`
	// ServerUnconfirmed: the server was found on the LAN; Fingerprint is
	// what it announced and its TLS handshake proved, not pinned until a
	// register or login confirms it (ServerFingerprint).
	ServerUnconfirmed bool `json:"server_unconfirmed,omitempty"`
	// Listen is the UDP address of the direct QUIC listener.
	Listen string `json:"listen"`
	// Peers are the contacts with a direct connection open now.
	Peers   []string `json:"peers"`
	Outbox  int      `json:"outbox"`
	Version string   `json:"version"`
}

// Me is the logged-in user.
type Me struct {
	Username    string `json:"username"`
	DisplayName string `json:"display_name,omitempty"`
	Email       string `json:"email,omitempty"`
	Phone       string `json:"phone,omitempty"`
	// Avatar is the id of this user's avatar, "" if none; the picture
	// is at GET /v1/avatars/{username}.
	Avatar string `json:"avatar,omitempty"`
	// Fingerprint is a short form of this user's identity key.
	Fingerprint string `json:"fingerprint"`
}

type RegisterRequest struct {
	Username    string `json:"username"`
	Password    string `json:"password"`
	DisplayName string `json:"display_name,omitempty"`
	Email       string `json:"email,omitempty"`
	Phone       string `json:"phone,omitempty"`
	// ServerFingerprint confirms the certificate of a server found on
	// the LAN (Status.ServerUnconfirmed): the fingerprint the user saw.
	ServerFingerprint string `json:"server_fingerprint,omitempty"`
}

type LoginRequest struct {
	Username string `json:"username"`
	Password string `json:"password"`
	// ServerFingerprint is as in RegisterRequest.
	ServerFingerprint string `json:"server_fingerprint,omitempty"`
}

type PasswdRequest struct {
	Old string `json:"old"`
	New string `json:"new"`
}

// ProfileRequest changes the fields that are set; "" clears a field.
type ProfileRequest struct {
	DisplayName *string `json:"display_name,omitempty"`
	Email       *string `json:"email,omitempty"`
	Phone       *string `json:"phone,omitempty"`
	// Avatar, when present, replaces the avatar with a square JPEG of
	// at most 256 pixels, under 64 KiB (the CLI makes one of any
	// picture); empty removes it.
	Avatar *[]byte `json:"avatar,omitempty"`
}

type User struct {
	Username    string `json:"username"`
	DisplayName string `json:"display_name,omitempty"`
}

type Presence struct {
	Status   string    `json:"status"`
	LastSeen time.Time `json:"last_seen,omitzero"`
}

type Friend struct {
	Username    string `json:"username"`
	DisplayName string `json:"display_name,omitempty"`
	// Avatar is the id of the avatar the daemon keeps, "" if none.
	Avatar   string   `json:"avatar,omitempty"`
	Presence Presence `json:"presence"`
	// Direct is true when a direct QUIC connection to the friend is open.
	Direct   bool `json:"direct"`
	Verified bool `json:"verified"`
	// Held is true while the friend's identity key changed and is not
	// yet trusted, or while SameKey is not empty.
	Held bool `json:"held"`
	// SameKey names other contacts pinned with the friend's key: a key
	// belongs to one account, so none of them is admitted.
	SameKey []string `json:"same_key,omitempty"`
}

type FriendRequest struct {
	User        string    `json:"user"`
	DisplayName string    `json:"display_name,omitempty"`
	At          time.Time `json:"at"`
}

type FriendRequests struct {
	Incoming []FriendRequest `json:"incoming"`
	Outgoing []FriendRequest `json:"outgoing"`
}

type FriendResult struct {
	// Status is "pending" or "accepted" for add, "done" otherwise.
	Status string `json:"status"`
}

// MaxText is the largest message text, in bytes of UTF-8, that a daemon
// accepts.
const MaxText = 64 << 10

type SendRequest struct {
	Target string `json:"target"`
	Text   string `json:"text"`
	// ReplyTo, when set, is the id of the message of the conversation
	// this one answers.
	ReplyTo string `json:"reply_to,omitempty"`
}

type SendResult struct {
	ID string `json:"id"`
	// Via is ViaDirect, ViaRelay or ViaQueued; for a group, ViaPartial
	// when the copies went different ways (see Copies).
	Via    string            `json:"via"`
	Copies map[string]string `json:"copies,omitempty"` // member → via, groups only
}

type Message struct {
	ID           string    `json:"id"`
	Conversation string    `json:"conversation"` // "user" or "#group"
	From         string    `json:"from"`
	Text         string    `json:"text"`
	Sent         time.Time `json:"sent"`
	// ClaimedSent is the send time the sender claimed, when it was more
	// than a day before the message arrived or ahead of it, so that Sent
	// was clamped.
	ClaimedSent time.Time `json:"claimed_sent,omitzero"`
	Outgoing    bool      `json:"outgoing"`
	// State is queued, sent, delivered, failed or received.
	State string `json:"state"`
	Via   string `json:"via,omitempty"`
	// Error says why a failed message failed.
	Error string `json:"error,omitempty"`
	// Kind is text or reply (docs/protocol.md, "Message kinds").
	Kind string `json:"kind,omitempty"`
	// Reply is the message a reply answers.
	Reply *Quote `json:"reply,omitempty"`
	// Edited is when the text shown was edited; zero if never.
	Edited time.Time `json:"edited,omitzero"`
	// Recalled is when the sender recalled it; Text is then "" if the
	// user hides recalled messages, else the text kept (anti-recall).
	Recalled time.Time `json:"recalled,omitzero"`
	// Reactions on the message, in the order first given.
	Reactions []Reaction `json:"reactions,omitempty"`
	// ReadBy are the recipients of an outgoing message who read it, of
	// Recipients in all ("read by 3 of 5"); none when the user turned
	// read receipts off. State still says how the copies travelled.
	ReadBy     []string `json:"read_by,omitempty"`
	Recipients int      `json:"recipients,omitempty"`
	// Media is the picture or recording of an image or voice message.
	Media *Media `json:"media,omitempty"`
	// Mentioned: the message mentions this user (@name).
	Mentioned bool `json:"mentioned,omitempty"`
	// Transfer is the transfer a message of kind file stands for.
	Transfer *FileItem `json:"transfer,omitempty"`
}

type Conversation struct {
	Target       string    `json:"target"` // "user" or "#group"
	Name         string    `json:"name"`
	LastActivity time.Time `json:"last_activity"`
	Unread       int       `json:"unread"`
	Preview      string    `json:"preview"`
	// PreviewFrom is who wrote the message Preview starts.
	PreviewFrom string `json:"preview_from,omitempty"`
	// Muted: no desktop notifications but for mentions.
	Muted bool `json:"muted,omitempty"`
}

type Group struct {
	ID      string    `json:"id"`
	Name    string    `json:"name"`
	Owner   string    `json:"owner"`
	Members int       `json:"members"`
	Created time.Time `json:"created,omitzero"`
	// Room is set for a room; Topic is its topic.
	Room  bool   `json:"room,omitempty"`
	Topic string `json:"topic,omitempty"`
}

type GroupInvite struct {
	Group Group     `json:"group"`
	By    string    `json:"by"`
	At    time.Time `json:"at"`
}

type Groups struct {
	Groups  []Group       `json:"groups"`
	Invites []GroupInvite `json:"invites"`
}

type GroupRequest struct {
	Action  string `json:"action"`
	Name    string `json:"name"`
	User    string `json:"user,omitempty"`
	NewName string `json:"new_name,omitempty"`
}

type Member struct {
	Username    string   `json:"username"`
	DisplayName string   `json:"display_name,omitempty"`
	Avatar      string   `json:"avatar,omitempty"` // as in Friend
	Owner       bool     `json:"owner,omitempty"`
	Admin       bool     `json:"admin,omitempty"` // a room admin
	Presence    Presence `json:"presence"`
}

type GroupMembers struct {
	Group   Group    `json:"group"`
	Members []Member `json:"members"`
}

type Verification struct {
	User string `json:"user"`
	// SafetyNumber is 60 digits in 12 groups of 5, the same on both
	// sides.
	SafetyNumber string `json:"safety_number"`
	// Fingerprint is the SHA-256 of the contact's key the number is for,
	// in hex: what Confirm and Trust take, so that they act only on the
	// key the user compared.
	Fingerprint string `json:"fingerprint"`
	Verified    bool   `json:"verified"`
	// KeyChanged means the contact's identity key changed and is not
	// trusted yet: SafetyNumber is the one for the new key, to compare
	// before running trust.
	KeyChanged bool `json:"key_changed,omitempty"`
	// SameKey names other contacts pinned with the same key (see
	// Friend.SameKey).
	SameKey []string `json:"same_key,omitempty"`
}

// KeyRequest names the key a verify --confirm or a trust is for.
type KeyRequest struct {
	// Fingerprint is Verification.Fingerprint as the user was shown it;
	// case, spaces and colons are ignored.
	Fingerprint string `json:"fingerprint"`
}

type Contact struct {
	Username string `json:"username"`
	Verified bool   `json:"verified"`
	Held     bool   `json:"held"`
}

// FocusRequest says that Client (a name the client picks, the same on
// every call) shows Conversation now (Open) or stopped showing it. An open
// focus lasts a minute: a client renews it while the conversation stays
// on screen.
type FocusRequest struct {
	Client       string `json:"client"`
	Conversation string `json:"conversation"`
	Open         bool   `json:"open"`
}

// Event is one item of the event stream. Type says which field is set.
type Event struct {
	Type string    `json:"type"`
	At   time.Time `json:"at"`

	Message    *Message    `json:"message,omitempty"`    // EventMessage, EventMessageState
	Presence   *PeerStatus `json:"presence,omitempty"`   // EventPresence
	Friend     *FriendNote `json:"friend,omitempty"`     // EventFriend*
	Group      *GroupNote  `json:"group,omitempty"`      // EventGroup
	KeyChange  *KeyChange  `json:"key_change,omitempty"` // EventKeyChanged, EventKeyShared
	Connection *Connection `json:"connection,omitempty"` // EventServer, EventPeer
	Transfer   *Transfer   `json:"transfer,omitempty"`   // EventTransfer (file transfer)
	Text       string      `json:"text,omitempty"`       // EventSignedOut: why
	From       string      `json:"from,omitempty"`       // EventTyping: who types
}

// Event types.
const (
	EventMessage      = "message"       // a message arrived (or was sent from another client of this daemon)
	EventMessageState = "message.state" // an outgoing message moved to sent or delivered
	// EventMessageChanged: a message shows differently now: edited,
	// recalled, reacted to.
	EventMessageChanged = "message.changed"
	EventPresence       = "presence"
	EventFriendRequest  = "friend.request"
	EventFriendAccepted = "friend.accepted"
	EventFriendRemoved  = "friend.removed"
	EventGroup          = "group"
	EventKeyChanged     = "key.changed"
	EventServer         = "server" // server link up or down
	EventPeer           = "peer"   // direct connection opened or closed
	EventLAN            = "lan"    // a contact's daemon appeared on or left the LAN (mDNS)
	EventTransfer       = "transfer"
	EventSignedOut      = "signed_out"
	// EventKeyShared: one key is pinned for more than one contact, so
	// none of them is admitted.
	EventKeyShared = "key.shared"
	// EventProfile: a contact's display name or avatar changed (Friend
	// names them).
	EventProfile = "profile"
	// EventTyping: a contact is typing to this user (From); it shows
	// for a few seconds unless another comes.
	EventTyping = "typing"
)

type PeerStatus struct {
	User     string   `json:"user"`
	Presence Presence `json:"presence"`
}

type FriendNote struct {
	User        string `json:"user"`
	DisplayName string `json:"display_name,omitempty"`
}

type GroupNote struct {
	Change  string `json:"change"`
	Group   Group  `json:"group"`
	User    string `json:"user,omitempty"`
	By      string `json:"by,omitempty"`
	OldName string `json:"old_name,omitempty"`
}

type KeyChange struct {
	User string `json:"user"`
	// Fingerprint is the SHA-256 of the new key, in hex, as verify
	// shows it.
	Fingerprint string `json:"fingerprint"`
	// Restored means the key is the pinned one again (the contact
	// logged in elsewhere, then back): nothing is held for it any more.
	Restored bool `json:"restored,omitempty"`
	// SameKey, for EventKeyShared, names the other contacts pinned with
	// the same key.
	SameKey []string `json:"same_key,omitempty"`
}

type Connection struct {
	// Peer is the contact for EventPeer, empty for EventServer.
	Peer string `json:"peer,omitempty"`
	Up   bool   `json:"up"`
	Addr string `json:"addr,omitempty"`
}

// ErrNoDaemon is returned by the client when no daemon listens on the
// socket.
var ErrNoDaemon = errors.New("no daemon running")

// Avatar is a user's avatar: a square JPEG and its id (which changes with
// the picture).
type Avatar struct {
	ID   string
	Data []byte
}

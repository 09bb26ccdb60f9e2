// Package store defines what the rendezvous server keeps on disk and the
// interface every backing store implements. The SQLite implementation in
// this package is the default; a PostgreSQL one can serve larger
// organisations behind the same interface.
//
// All names passed in are already normalized (lower-case) by the caller.
package store

import (
	"context"
	"errors"
	"time"

	"github.com/lanchat/lanchat/internal/keys"
)

// Sentinel errors callers branch on.
var (
	ErrNotFound = errors.New("not found")
	ErrExists   = errors.New("already exists")
	ErrQuota    = errors.New("quota exceeded")
	// ErrKeyInUse reports an identity key that another account holds.
	ErrKeyInUse = errors.New("identity key in use by another account")
	// ErrSenderQuota: the sender has as much waiting for the recipient
	// as one sender may.
	ErrSenderQuota = errors.New("sender quota exceeded")
	// ErrBanned: the user is banned from the room.
	ErrBanned = errors.New("banned from the room")
	// ErrTooManyRooms: the user is in as many rooms as one may be.
	ErrTooManyRooms = errors.New("in too many rooms")
)

// User is an account.
type User struct {
	Name         string
	DisplayName  string
	Email        string
	Phone        string
	PasswordHash string // PHC-formatted argon2id hash
	IdentityKey  []byte
	Prekey       keys.SignedPrekey
	Disabled     bool
	Created      time.Time
	LastSeen     time.Time // zero if never seen
	AvatarID     string    // wire.AvatarID of the avatar, "" if none
}

// Profile is the user-editable part of a User.
type Profile struct {
	DisplayName string
	Email       string
	Phone       string
	// Avatar is a JPEG of under MaxAvatar bytes, nil if none. The
	// server checks that it decodes before it stores it.
	Avatar []byte
}

// MaxAvatar bounds a stored avatar: it is under MaxAvatar bytes.
const MaxAvatar = 64 << 10

// Session is a login session. Only the SHA-256 of the token is stored.
type Session struct {
	TokenHash []byte
	User      string
	Created   time.Time
	Expires   time.Time
}

// FriendRequest is a pending request from From to To.
type FriendRequest struct {
	From string
	To   string
	At   time.Time
}

// Group is a named group of users.
type Group struct {
	ID      string // 32 hex digits
	Name    string // unique, lower-case
	Owner   string
	Created time.Time
	Members int  // filled by Group, GroupByID and Groups
	Room    bool // the group is a room (see Room); filled likewise
}

// Member is one member of a group.
type Member struct {
	User   string
	Joined time.Time
}

// Invite is a pending invitation to a group.
type Invite struct {
	Group Group
	User  string // who is invited
	By    string
	At    time.Time
}

// RelayMessage is a sealed envelope waiting for its recipient.
type RelayMessage struct {
	Seq       int64 // assigned by the store, increasing in arrival order
	Recipient string
	ID        string // client-made message id
	Sender    string
	Envelope  []byte
	Created   time.Time
}

// RelayPut is what became of one envelope of PutRelays: Inserted, or
// refused with Err (ErrQuota, ErrSenderQuota), or neither: a duplicate.
type RelayPut struct {
	Inserted bool
	Err      error
}

// Quota bounds what one recipient may have waiting in the relay, in all
// (MaxCount, MaxBytes) and from any one sender (SenderCount, SenderBytes).
type Quota struct {
	MaxCount    int
	MaxBytes    int64
	SenderCount int
	SenderBytes int64
}

// RelayRef names one relayed message of a recipient: its sender and id.
type RelayRef struct {
	Sender string
	ID     string
}

// DropRef names one drop notice of a sender: the recipient and the id.
type DropRef struct {
	Recipient string
	ID        string
}

// RelayDrop is a notice to Sender that the relay dropped its message ID
// to Recipient for good.
type RelayDrop struct {
	Sender    string
	Recipient string
	ID        string
	Reason    string // wire.DropExpired, wire.DropRefused
	At        time.Time
}

// Store is the server's persistent state. Every method is safe for
// concurrent use. A write method returns only after its transaction is
// durably committed.
type Store interface {
	// CreateUser adds an account; ErrExists if the name is taken,
	// ErrKeyInUse if another account holds the identity key.
	CreateUser(ctx context.Context, u User) error
	// User returns an account; ErrNotFound if there is none.
	User(ctx context.Context, name string) (User, error)
	// UserByIdentityKey returns the account holding an identity key;
	// ErrNotFound if there is none.
	UserByIdentityKey(ctx context.Context, key []byte) (User, error)
	// Users lists all accounts, by name, for the operator.
	Users(ctx context.Context) ([]User, error)
	// SearchUsers returns enabled users whose name or display name starts
	// with prefix (case-insensitively), by name, at most limit.
	SearchUsers(ctx context.Context, prefix string, limit int) ([]User, error)
	// SetPassword replaces the password hash.
	SetPassword(ctx context.Context, name, hash string) error
	// SetProfile replaces the profile fields.
	SetProfile(ctx context.Context, name string, p Profile) error
	// SetIdentity replaces the identity key and prekey together;
	// ErrKeyInUse if another account holds the key.
	SetIdentity(ctx context.Context, name string, identity []byte, prekey keys.SignedPrekey) error
	// SetPrekey replaces the prekey.
	SetPrekey(ctx context.Context, name string, prekey keys.SignedPrekey) error
	// SetDisabled disables or enables an account. Disabling also deletes
	// its sessions. ErrNotFound if there is no such user.
	SetDisabled(ctx context.Context, name string, disabled bool, at time.Time) error
	// DisabledSince lists users disabled at or after t.
	DisabledSince(ctx context.Context, t time.Time) ([]string, error)
	// SetLastSeen records when the user was last online.
	SetLastSeen(ctx context.Context, name string, at time.Time) error

	// CreateSession stores a new session.
	CreateSession(ctx context.Context, s Session) error
	// Session looks a session up by token hash; ErrNotFound if unknown.
	Session(ctx context.Context, tokenHash []byte) (Session, error)
	// DeleteSession revokes one session (no error if already gone).
	DeleteSession(ctx context.Context, tokenHash []byte) error
	// DeleteSessions revokes all of a user's sessions except keep (which
	// may be nil) and returns how many it removed.
	DeleteSessions(ctx context.Context, user string, keep []byte) (int, error)
	// DeleteExpiredSessions removes sessions expired before now.
	DeleteExpiredSessions(ctx context.Context, now time.Time) (int, error)

	// CreateFriendRequest records a pending request; ErrExists if the same
	// request is already pending.
	CreateFriendRequest(ctx context.Context, r FriendRequest) error
	// FriendRequest returns the pending request from→to; ErrNotFound.
	FriendRequest(ctx context.Context, from, to string) (FriendRequest, error)
	// DeleteFriendRequest removes a pending request; ErrNotFound.
	DeleteFriendRequest(ctx context.Context, from, to string) error
	// FriendRequests lists requests to and from user, oldest first.
	FriendRequests(ctx context.Context, user string) (incoming, outgoing []FriendRequest, err error)
	// AcceptFriendRequest deletes the pending request from→to (and any
	// request to→from) and records the friendship, in one transaction;
	// ErrNotFound if there is no request from→to.
	AcceptFriendRequest(ctx context.Context, from, to string, at time.Time) error
	// DeleteFriendship ends a friendship; ErrNotFound if there was none.
	DeleteFriendship(ctx context.Context, a, b string) error
	// Friends lists user's friends by name.
	Friends(ctx context.Context, user string) ([]string, error)
	// AreFriends reports whether a and b are friends.
	AreFriends(ctx context.Context, a, b string) (bool, error)

	// CreateGroup adds a group with its owner as first member; ErrExists
	// if the name is taken.
	CreateGroup(ctx context.Context, g Group) error
	// Group looks a group up by name; ErrNotFound.
	Group(ctx context.Context, name string) (Group, error)
	// GroupByID looks a group up by id; ErrNotFound.
	GroupByID(ctx context.Context, id string) (Group, error)
	// RenameGroup renames; ErrExists if the new name is taken.
	RenameGroup(ctx context.Context, id, name string) error
	// SetGroupOwner passes ownership to a member.
	SetGroupOwner(ctx context.Context, id, owner string) error
	// DeleteGroup removes a group with its members and invites.
	DeleteGroup(ctx context.Context, id string) error
	// CreateInvite records an invitation; ErrExists if already invited.
	CreateInvite(ctx context.Context, inv Invite) error
	// DeleteInvite removes an invitation; ErrNotFound.
	DeleteInvite(ctx context.Context, groupID, user string) error
	// Invites lists user's pending invitations, oldest first.
	Invites(ctx context.Context, user string) ([]Invite, error)
	// JoinGroup consumes user's invitation and adds them as a member in
	// one transaction; ErrNotFound if not invited.
	JoinGroup(ctx context.Context, groupID, user string, at time.Time) error
	// RemoveMember removes a member; ErrNotFound if not a member.
	RemoveMember(ctx context.Context, groupID, user string) error
	// Members lists a group's members, oldest first.
	Members(ctx context.Context, groupID string) ([]Member, error)
	// IsMember reports whether user belongs to the group.
	IsMember(ctx context.Context, groupID, user string) (bool, error)
	// Groups lists the groups user belongs to, by name.
	Groups(ctx context.Context, user string) ([]Group, error)
	// ShareGroup reports whether a and b are members of a common group.
	ShareGroup(ctx context.Context, a, b string) (bool, error)
	// Contacts lists everyone who may see user's presence: friends and
	// co-members of any group, without duplicates, excluding user.
	Contacts(ctx context.Context, user string) ([]string, error)

	// PutRelay stores an envelope. It returns false, nil if one with the
	// same (recipient, sender, id) is already stored; ErrQuota if storing
	// it would exceed the recipient's quota, ErrSenderQuota if it would
	// exceed what one sender may have waiting for them. Quota check and
	// insert are one transaction.
	PutRelay(ctx context.Context, m RelayMessage, q Quota) (bool, error)
	// PutRelays stores a batch of envelopes, each as PutRelay would, in
	// order (an envelope's quota check counts those before it), and
	// returns what became of each; an error means none was stored. It
	// returns once the batch is durably committed; a store may commit
	// concurrent batches (and AckRelay calls) in one transaction, each in
	// a savepoint of its own, as the SQLite store does (sqlitedb.Group).
	PutRelays(ctx context.Context, ms []RelayMessage, q Quota) ([]RelayPut, error)
	// PendingRelay returns the recipient's envelopes with Seq > after,
	// oldest first, at most limit.
	PendingRelay(ctx context.Context, recipient string, after int64, limit int) ([]RelayMessage, error)
	// AckRelay deletes the recipient's envelopes named in acks and
	// refused, records a drop notice (reason refused, at) for each of
	// refused that was stored, in one transaction, and returns how many
	// envelopes it deleted.
	AckRelay(ctx context.Context, recipient string, acks, refused []RelayRef, at time.Time) (int, error)
	// ExpireRelay deletes envelopes created before t, records a drop
	// notice (reason expired, at now) for each, and deletes notices
	// older than t, in one transaction. It returns how many envelopes it
	// deleted and the senders who have new notices.
	ExpireRelay(ctx context.Context, before, now time.Time) (int, []string, error)
	// RelayDrops returns sender's drop notices, oldest first, at most
	// limit.
	RelayDrops(ctx context.Context, sender string, limit int) ([]RelayDrop, error)
	// AckRelayDrops deletes sender's drop notices named in refs and
	// returns how many.
	AckRelayDrops(ctx context.Context, sender string, refs []DropRef) (int, error)

	// Close releases the store.
	Close() error

	// Rooms (rooms.go): a room is a group with a topic that anyone may
	// find and join; it has admins and bans, and one may be the lobby.
	RoomStore

	// Avatar returns a user's avatar; ErrNotFound if there is no such
	// user or the user has none.
	Avatar(ctx context.Context, name string) ([]byte, error)
}

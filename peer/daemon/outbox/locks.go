package outbox

import "sync"

// userLocks is one mutex per recipient, exact (no stripes shared by
// several names), so a group submit can hold many recipients' locks at
// once without finding one of its own stripes taken.
type userLocks struct {
	mu sync.Mutex
	m  map[string]*userLock
}

type userLock struct {
	sync.Mutex
	refs int
}

// Lock locks user's mutex and returns its unlock, to be called once.
func (l *userLocks) Lock(user string) (unlock func()) {
	l.mu.Lock()
	if l.m == nil {
		l.m = make(map[string]*userLock)
	}
	ul := l.m[user]
	if ul == nil {
		ul = &userLock{}
		l.m[user] = ul
	}
	ul.refs++
	l.mu.Unlock()
	ul.Lock()
	return func() {
		ul.Unlock()
		l.mu.Lock()
		if ul.refs--; ul.refs == 0 {
			delete(l.m, user)
		}
		l.mu.Unlock()
	}
}

// TryLock locks user's mutex if it is free now and returns its unlock;
// ok is false, and nothing is locked, if another holds it.
func (l *userLocks) TryLock(user string) (unlock func(), ok bool) {
	l.mu.Lock()
	if l.m == nil {
		l.m = make(map[string]*userLock)
	}
	ul := l.m[user]
	if ul == nil {
		ul = &userLock{}
		l.m[user] = ul
	}
	if !ul.TryLock() {
		l.mu.Unlock()
		return nil, false
	}
	ul.refs++
	l.mu.Unlock()
	return func() {
		ul.Unlock()
		l.mu.Lock()
		if ul.refs--; ul.refs == 0 {
			delete(l.m, user)
		}
		l.mu.Unlock()
	}, true
}

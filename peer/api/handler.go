package api

import (
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// MaxRequestBody is the largest request body the handler reads. A message
// text is at most 64 KiB; the rest leaves room for JSON escaping.
const MaxRequestBody = 128 << 10

// handler serves the local API on top of a Service.
type handler struct {
	svc   Service
	lib   LibraryService
	rich  RichMessages
	rooms RoomService
	log   *slog.Logger
	mux   *http.ServeMux
}

// Parts are the services behind the API beside the main one, each served
// by its own part of the daemon.
type Parts struct {
	Library LibraryService // shared file libraries (library.go)
	Rich    RichMessages   // reactions, edits, media (rich.go, media.go, messagedata.go)
	Rooms   RoomService    // rooms and who is online (rooms.go)
}

// RichMessages is what the rich routes need: RichService and a message's
// data.
type RichMessages interface {
	RichService
	MessageDataService
}

// NewHandler returns the HTTP handler of the local API: every route of
// docs/api.md, each turned into one call on svc, or on lib for the shared
// file libraries (/v1/library). Failures are sent as
// {"error":{"code","message"}}; errors that are not an *Error are logged
// and shown as a generic internal error.
func NewHandler(svc Service, parts Parts, logger *slog.Logger) http.Handler {
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	h := &handler{svc: svc, lib: parts.Library, rich: parts.Rich, rooms: parts.Rooms, log: logger, mux: http.NewServeMux()}
	h.routes()
	return h
}

// endpoint is one route's work: it returns the value to send as JSON, or
// nil for 204 No Content.
type endpoint func(r *http.Request) (any, error)

func (h *handler) handle(pattern string, e endpoint) {
	h.mux.HandleFunc(pattern, func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		r.Body = http.MaxBytesReader(w, r.Body, MaxRequestBody)
		v, err := e(r)
		status := h.reply(w, r, v, err)
		// The path and query may hold search text: log the pattern only.
		h.log.Debug("request", "route", r.Pattern, "status", status, "took", time.Since(start))
	})
}

func (h *handler) routes() {
	h.avatarRoutes()
	h.messageDataRoutes()
	h.handle("GET /v1/status", func(r *http.Request) (any, error) {
		return h.svc.Status(r.Context())
	})
	h.handle("POST /v1/transfers", func(r *http.Request) (any, error) {
		req, err := decode[SendFileRequest](r)
		if err != nil {
			return nil, err
		}
		res, err := h.svc.SendFile(r.Context(), req)
		res.Transfers = nonNil(res.Transfers)
		return res, err
	})
	h.handle("GET /v1/transfers", func(r *http.Request) (any, error) {
		return orEmpty(h.svc.Transfers(r.Context()))
	})
	h.handle("POST /v1/transfers/{id}/{action}", func(r *http.Request) (any, error) {
		action := r.PathValue("action")
		switch action {
		case TransferAccept, TransferReject, TransferCancel:
		default:
			return nil, Errorf(CodeInvalid, "unknown transfer action %q (accept, reject or cancel)", action)
		}
		var req AcceptRequest
		if r.ContentLength != 0 {
			var err error
			if req, err = decode[AcceptRequest](r); err != nil {
				return nil, err
			}
		}
		return h.svc.TransferAction(r.Context(), r.PathValue("id"), action, req)
	})
	h.handle("GET /v1/doctor", func(r *http.Request) (any, error) {
		d, err := h.svc.Doctor(r.Context())
		d.Checks = nonNil(d.Checks)
		return d, err
	})
	h.handle("GET /v1/peers", func(r *http.Request) (any, error) {
		p, err := h.svc.Peers(r.Context())
		p.Contacts = nonNil(p.Contacts)
		return p, err
	})
	h.handle("POST /v1/register", func(r *http.Request) (any, error) {
		req, err := decode[RegisterRequest](r)
		if err != nil {
			return nil, err
		}
		return h.svc.Register(r.Context(), req)
	})
	h.handle("POST /v1/login", func(r *http.Request) (any, error) {
		req, err := decode[LoginRequest](r)
		if err != nil {
			return nil, err
		}
		return h.svc.Login(r.Context(), req)
	})
	h.handle("POST /v1/logout", func(r *http.Request) (any, error) {
		return nil, h.svc.Logout(r.Context())
	})
	h.handle("POST /v1/focus", func(r *http.Request) (any, error) {
		req, err := decode[FocusRequest](r)
		if err != nil {
			return nil, err
		}
		if len(req.Client) > 64 || len(req.Conversation) > 256 {
			return nil, &Error{Code: CodeInvalid, Message: "focus: client or conversation too long"}
		}
		return nil, h.svc.Focus(r.Context(), req)
	})
	h.handle("POST /v1/passwd", func(r *http.Request) (any, error) {
		req, err := decode[PasswdRequest](r)
		if err != nil {
			return nil, err
		}
		return nil, h.svc.Passwd(r.Context(), req)
	})
	h.handle("PATCH /v1/profile", func(r *http.Request) (any, error) {
		req, err := decode[ProfileRequest](r)
		if err != nil {
			return nil, err
		}
		return h.svc.SetProfile(r.Context(), req)
	})

	h.handle("GET /v1/users", func(r *http.Request) (any, error) {
		limit, err := limitParam(r)
		if err != nil {
			return nil, err
		}
		return orEmpty(h.svc.SearchUsers(r.Context(), r.URL.Query().Get("q"), limit))
	})
	h.handle("GET /v1/friends", func(r *http.Request) (any, error) {
		return orEmpty(h.svc.Friends(r.Context()))
	})
	h.handle("GET /v1/friends/requests", func(r *http.Request) (any, error) {
		reqs, err := h.svc.FriendRequests(r.Context())
		reqs.Incoming, reqs.Outgoing = nonNil(reqs.Incoming), nonNil(reqs.Outgoing)
		return reqs, err
	})
	h.handle("POST /v1/friends/{user}/{action}", func(r *http.Request) (any, error) {
		action := r.PathValue("action")
		switch action {
		case FriendAdd, FriendAccept, FriendReject, FriendRemove:
		default:
			return nil, Errorf(CodeInvalid, "unknown friend action %q (add, accept, reject or remove)", action)
		}
		return h.svc.Friend(r.Context(), action, r.PathValue("user"))
	})

	h.handle("POST /v1/messages", func(r *http.Request) (any, error) {
		req, err := decode[SendRequest](r)
		if err != nil {
			return nil, err
		}
		return h.svc.Send(r.Context(), req)
	})
	h.handle("GET /v1/conversations/{target}/messages", func(r *http.Request) (any, error) {
		limit, err := limitParam(r)
		if err != nil {
			return nil, err
		}
		q := r.URL.Query()
		return orEmpty(h.svc.History(r.Context(), r.PathValue("target"), limit, q.Get("search"), q.Get("before")))
	})
	h.handle("GET /v1/search", func(r *http.Request) (any, error) {
		limit, err := limitParam(r)
		if err != nil {
			return nil, err
		}
		return orEmpty(h.svc.Search(r.Context(), r.URL.Query().Get("q"), limit))
	})
	h.handle("GET /v1/recent", func(r *http.Request) (any, error) {
		return orEmpty(h.svc.Recent(r.Context()))
	})

	h.handle("GET /v1/groups", func(r *http.Request) (any, error) {
		gs, err := h.svc.Groups(r.Context())
		gs.Groups, gs.Invites = nonNil(gs.Groups), nonNil(gs.Invites)
		return gs, err
	})
	h.handle("POST /v1/groups/{action}", func(r *http.Request) (any, error) {
		action := r.PathValue("action")
		switch action {
		case GroupCreate, GroupInviteUser, GroupJoin, GroupLeave, GroupKick, GroupRename, GroupDelete:
		default:
			return nil, Errorf(CodeInvalid, "unknown group action %q (create, invite, join, leave, kick, rename or delete)", action)
		}
		req, err := decode[GroupRequest](r)
		if err != nil {
			return nil, err
		}
		if req.Action != "" && req.Action != action {
			return nil, Errorf(CodeInvalid, "the body's action %q differs from the path's %q", req.Action, action)
		}
		req.Action = action
		return h.svc.Group(r.Context(), req)
	})
	h.handle("GET /v1/groups/{name}/members", func(r *http.Request) (any, error) {
		gm, err := h.svc.GroupMembers(r.Context(), r.PathValue("name"))
		gm.Members = nonNil(gm.Members)
		return gm, err
	})

	h.roomRoutes()
	h.libraryRoutes()
	h.richRoutes()
	h.timelineRoutes()

	h.handle("GET /v1/verify/{user}", func(r *http.Request) (any, error) {
		return h.svc.Verify(r.Context(), r.PathValue("user"))
	})
	h.handle("POST /v1/verify/{user}", func(r *http.Request) (any, error) {
		req, err := decodeKeyRequest(r)
		if err != nil {
			return nil, err
		}
		return h.svc.Confirm(r.Context(), r.PathValue("user"), req)
	})
	h.handle("POST /v1/trust/{user}", func(r *http.Request) (any, error) {
		req, err := decodeKeyRequest(r)
		if err != nil {
			return nil, err
		}
		return h.svc.Trust(r.Context(), r.PathValue("user"), req)
	})

	h.mux.HandleFunc("GET /v1/events", h.events)
}

// ServeHTTP routes a request; requests no route matches get a JSON 404 or
// 405 instead of the mux's plain-text ones.
func (h *handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	fallback, pattern := h.mux.Handler(r)
	if pattern != "" {
		h.mux.ServeHTTP(w, r)
		return
	}
	// Let the mux decide between 404 and 405, then answer in JSON.
	rec := &statusRecorder{header: make(http.Header)}
	fallback.ServeHTTP(rec, r)
	if rec.status == http.StatusMethodNotAllowed {
		allow := rec.header.Get("Allow")
		w.Header().Set("Allow", allow)
		writeError(w, http.StatusMethodNotAllowed, Errorf(CodeInvalid, "method %s is not allowed on %s (allowed: %s)", r.Method, r.URL.Path, allow))
		return
	}
	writeError(w, http.StatusNotFound, Errorf(CodeNotFound, "no route %s %s; see docs/api.md", r.Method, r.URL.Path))
}

// reply writes v (or err) and returns the status sent.
func (h *handler) reply(w http.ResponseWriter, r *http.Request, v any, err error) int {
	if err != nil {
		return h.fail(w, r, err)
	}
	if v == nil {
		w.WriteHeader(http.StatusNoContent)
		return http.StatusNoContent
	}
	body, err := json.Marshal(v)
	if err != nil {
		return h.fail(w, r, err)
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(http.StatusOK)
	w.Write(append(body, '\n'))
	return http.StatusOK
}

// fail sends err. An *Error goes as it is; anything else is logged and
// hidden behind a generic message, since it may carry internals.
func (h *handler) fail(w http.ResponseWriter, r *http.Request, err error) int {
	var (
		e        *Error
		tooLarge *http.MaxBytesError
	)
	switch {
	case errors.As(err, &tooLarge):
		e = Errorf(CodeInvalid, "the request body is larger than %d KiB", tooLarge.Limit>>10)
		writeError(w, http.StatusRequestEntityTooLarge, e)
		return http.StatusRequestEntityTooLarge
	case errors.As(err, &e):
	case r.Context().Err() != nil:
		// The client went away or the daemon is stopping: nobody reads
		// the reply and there is nothing to report.
		h.log.Debug("request abandoned", "route", r.Pattern, "err", err)
		e = Errorf(CodeUnavailable, "the request was cancelled")
	case errors.Is(err, context.DeadlineExceeded):
		h.log.Warn("request timed out", "route", r.Pattern, "err", err)
		e = Errorf(CodeUnavailable, "the daemon did not finish in time; try again")
	default:
		h.log.Error("request failed", "route", r.Pattern, "err", err)
		e = Errorf(CodeInternal, "internal error in the daemon; its log has the details")
	}
	status := HTTPStatus(e)
	writeError(w, status, e)
	return status
}

// errorReply is the body of every failed request.
type errorReply struct {
	Error *Error `json:"error"`
}

func writeError(w http.ResponseWriter, status int, e *Error) {
	body, _ := json.Marshal(errorReply{Error: e})
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(status)
	w.Write(append(body, '\n'))
}

// limitParam reads the optional ?limit= query parameter; 0 means the
// daemon's default.
func limitParam(r *http.Request) (int, error) {
	s := r.URL.Query().Get("limit")
	if s == "" {
		return 0, nil
	}
	n, err := strconv.Atoi(strings.TrimSpace(s))
	if err != nil || n < 0 {
		return 0, Errorf(CodeInvalid, "limit must be a whole number ≥ 0, not %q", s)
	}
	return n, nil
}

// orEmpty makes a nil slice an empty one, so lists are sent as [] and
// never as null.
func orEmpty[T any](s []T, err error) ([]T, error) {
	return nonNil(s), err
}

func nonNil[T any](s []T) []T {
	if s == nil {
		return []T{}
	}
	return s
}

// statusRecorder captures what the mux's own 404 and 405 handlers write.
type statusRecorder struct {
	header http.Header
	status int
}

func (s *statusRecorder) Header() http.Header { return s.header }

func (s *statusRecorder) Write(b []byte) (int, error) {
	if s.status == 0 {
		s.status = http.StatusOK
	}
	return len(b), nil
}

func (s *statusRecorder) WriteHeader(status int) {
	if s.status == 0 {
		s.status = status
	}
}

package webui

import (
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/lanchat/lanchat/transfer"
)

// Upload limits.
const (
	// UploadRoute takes a file from the browser: the API offers files by
	// path, and a page cannot name a path on disk.
	UploadRoute = "/upload"
	// MaxUpload bounds one uploaded file.
	MaxUpload = 64 << 30
	// UploadRetention is how long uploaded copies are kept for the
	// transfers (and their resumptions) that read them.
	UploadRetention = 7 * 24 * time.Hour
	batchBytes      = 16
)

// uploads keeps the files the browser sends under dir, one directory per
// batch (a file, or the files of one folder), so the app can hand their
// paths to POST /api/v1/transfers.
type uploads struct {
	dir string
	now func() time.Time
}

// uploadReply is what POST /upload answers.
type uploadReply struct {
	// Path is the stored file; Root the top of its relative name (the
	// folder to send when a folder was uploaded file by file).
	Path  string `json:"path"`
	Root  string `json:"root"`
	Batch string `json:"batch"`
}

// prune removes batches older than UploadRetention.
func (u *uploads) prune() error {
	entries, err := os.ReadDir(u.dir)
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("list uploads: %w", err)
	}
	for _, e := range entries {
		fi, err := e.Info()
		if err != nil || u.now().Sub(fi.ModTime()) < UploadRetention {
			continue
		}
		if err := os.RemoveAll(filepath.Join(u.dir, e.Name())); err != nil {
			return fmt.Errorf("remove old upload: %w", err)
		}
	}
	return nil
}

// serve handles POST /upload?name=REL[&batch=ID]: the body is the file's
// bytes. REL is the file's name, or its path inside an uploaded folder
// ("photos/2024/a.jpg"); it is cleaned as a received name is. Files with
// the same batch land in one directory; without one a new batch starts.
func (u *uploads) serve(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost {
		w.Header().Set("Allow", "POST")
		replyError(w, http.StatusMethodNotAllowed, "invalid", "use POST to upload a file")
		return
	}
	rel, err := transfer.Sanitize(r.URL.Query().Get("name"))
	if err != nil {
		replyError(w, http.StatusBadRequest, "invalid", "the file name: "+err.Error())
		return
	}
	batch := r.URL.Query().Get("batch")
	if batch == "" {
		b := make([]byte, batchBytes)
		rand.Read(b)
		batch = hex.EncodeToString(b)
	} else if b, err := hex.DecodeString(batch); err != nil || len(b) != batchBytes {
		replyError(w, http.StatusBadRequest, "invalid", "batch must be the id a previous upload returned")
		return
	}
	if r.ContentLength > MaxUpload {
		replyError(w, http.StatusRequestEntityTooLarge, "invalid", fmt.Sprintf("a file sent from the app may be at most %d GiB", MaxUpload>>30))
		return
	}
	dir := filepath.Join(u.dir, batch)
	path := filepath.Join(dir, filepath.FromSlash(rel))
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		replyError(w, http.StatusInternalServerError, "internal", "cannot store the upload: "+err.Error())
		return
	}
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if errors.Is(err, fs.ErrExist) {
		replyError(w, http.StatusConflict, "conflict", fmt.Sprintf("%s was already uploaded in this batch", rel))
		return
	}
	if err != nil {
		replyError(w, http.StatusInternalServerError, "internal", "cannot store the upload: "+err.Error())
		return
	}
	n, err := io.Copy(f, io.LimitReader(r.Body, MaxUpload+1))
	if err == nil && n > MaxUpload {
		err = fmt.Errorf("a file sent from the app may be at most %d GiB", MaxUpload>>30)
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		os.Remove(path)
		replyError(w, http.StatusBadRequest, "invalid", "upload failed: "+err.Error())
		return
	}
	top, _, _ := strings.Cut(rel, "/")
	body, _ := json.Marshal(uploadReply{Path: path, Root: filepath.Join(dir, top), Batch: batch})
	w.Header().Set("Content-Type", "application/json")
	w.Write(append(body, '\n'))
}

// replyError answers in the API's error format.
func replyError(w http.ResponseWriter, status int, code, msg string) {
	body, _ := json.Marshal(map[string]map[string]string{"error": {"code": code, "message": msg}})
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	w.Write(append(body, '\n'))
}

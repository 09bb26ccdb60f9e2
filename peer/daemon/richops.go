package daemon

import (
	"context"
	"time"

	"github.com/lanchat/lanchat/peer/api"
	"github.com/lanchat/lanchat/peer/home"
)

// richOps serves the API's reactions, edits, recall, settings, mute,
// mentions, pictures and voice (api.RichService) and a message's data
// (api.MessageDataService), from the messages and transfers components.
type richOps struct {
	session   *session
	messages  *messages
	transfers *transfers
	home      *home.Home
}

// React adds or takes back a reaction.
func (r *richOps) React(ctx context.Context, id string, req api.ReactRequest) (api.Message, error) {
	return r.messages.React(ctx, id, req)
}

// Edit edits one's own message.
func (r *richOps) Edit(ctx context.Context, id string, req api.EditRequest) (api.Message, error) {
	return r.messages.Edit(ctx, id, req)
}

// Recall recalls one's own message.
func (r *richOps) Recall(ctx context.Context, id string) (api.Message, error) {
	return r.messages.Recall(ctx, id)
}

// Settings returns the user's settings.
func (r *richOps) Settings(ctx context.Context) (api.Settings, error) {
	return r.messages.Settings(ctx)
}

// SetSetting sets one setting.
func (r *richOps) SetSetting(ctx context.Context, name string, req api.SettingRequest) (api.Settings, error) {
	return r.messages.SetSetting(ctx, name, req)
}

// Mute mutes or unmutes a conversation.
func (r *richOps) Mute(ctx context.Context, target string, muted bool) error {
	return r.messages.Mute(ctx, target, muted)
}

// Mentions lists the messages that mention the user.
func (r *richOps) Mentions(ctx context.Context, limit int) ([]api.Message, error) {
	return r.messages.Mentions(ctx, limit)
}

// SendMedia sends a picture or a voice recording.
func (r *richOps) SendMedia(ctx context.Context, req api.SendMediaRequest) (api.SendResult, error) {
	return r.messages.SendMedia(ctx, req, r.transfers)
}

// mutedTarget tells the notifier whether the conversation with target
// (as messages name it: "bob", "#team") is muted.
func (r *richOps) mutedTarget(target string) bool {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	conv, err := r.messages.conversation(ctx, target)
	if err != nil || r.messages.db == nil {
		return false
	}
	muted, err := r.messages.db.Muted(ctx, conv)
	return err == nil && muted
}

package wire

// OpKeysGetMany asks the directory for many users' keys in one request:
// what a sender needs before sealing a message to a big group or room.
const OpKeysGetMany = "keys.get_many"

// MaxKeysBatch bounds the usernames of one keys.get_many request.
const MaxKeysBatch = 256

// KeysGetManyRequest names 1 to MaxKeysBatch users.
type KeysGetManyRequest struct {
	Usernames []string `json:"usernames"`
}

// KeysGetManyResponse gives the keys of each user named that keys.get
// would answer for, in the order asked, each once; every other name is
// in Missing, as a user that does not exist would be.
type KeysGetManyResponse struct {
	Keys    []KeysResponse `json:"keys"`
	Missing []string       `json:"missing,omitempty"`
}

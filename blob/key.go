// Package blob keeps images and files for Plop: on the local disk by default (Disk), or in
// S3-compatible object storage when configured. Both implement plop.BlobStore.
package blob

import (
	"mime"
	"path"
	"strings"

	"github.com/plop-chat/plop"
)

// MaxKeyLen bounds a key, well under every file system's and object store's limit.
const MaxKeyLen = 512

// CheckKey returns an invalid_argument error unless key is a slash-separated path of
// segments made of [a-z0-9._-], with no empty, "." or ".." segment and no leading or
// trailing slash.
func CheckKey(key string) error {
	if key == "" || len(key) > MaxKeyLen {
		return plop.Errorf(plop.EInvalid, "invalid blob key %q", key)
	}
	for seg := range strings.SplitSeq(key, "/") {
		if seg == "" || seg == "." || seg == ".." {
			return plop.Errorf(plop.EInvalid, "invalid blob key %q", key)
		}
		for i := 0; i < len(seg); i++ {
			c := seg[i]
			if !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '.' || c == '_' || c == '-') {
				return plop.Errorf(plop.EInvalid, "invalid blob key %q", key)
			}
		}
	}
	return nil
}

// ContentTypeOf returns the media type for key's extension, application/octet-stream when
// the extension is unknown.
func ContentTypeOf(key string) string {
	if t := mime.TypeByExtension(path.Ext(key)); t != "" {
		return t
	}
	return "application/octet-stream"
}

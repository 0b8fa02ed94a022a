// Package auth holds the credentials of Plop: Argon2id password hashes, EdDSA-signed access
// tokens (JWT) with rotating keys, opaque refresh tokens stored as hashes, and e-mail
// verification codes kept as HMACs.
//
// Everything here is pure computation or local files; the services in package app decide
// when to issue, verify or revoke.
package auth

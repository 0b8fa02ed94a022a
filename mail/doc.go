// Package mail delivers Plop's e-mail (verification codes): to an outbox folder of .eml files
// by default, or through an SMTP server when one is configured. Both implement plop.Mailer
// and build the same RFC 5322 message.
package mail

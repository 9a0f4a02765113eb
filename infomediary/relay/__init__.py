"""The anonymous mail relay (issue 20): suppliers write to customers' relay addresses (`infomediary.aliases`);
each message is decided by the consent engine, logged, kept sealed for her inbox and forwarded, DKIM-signed,
to her own address.

`inbound` decides one message, `server` is the SMTP front (aiosmtpd), `forwarding` composes what she
receives, `dkim_signing` signs it, `messages` keeps what was relayed, `sending_domains` binds a supplier's
sending domain and DKIM key to its account. A reply path and message filters belong beside `inbound`.
"""

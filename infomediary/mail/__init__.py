"""Outgoing mail: messages (`message`), how they leave (`transport`: an SMTP relay, or files under
<data_dir>/mail/ on the embedded default, `spool`), and sending only once the transaction that asked for
them has committed (`at_commit`). What a message says belongs to the domain that sends it."""

/** `empathy-webhooks --help` */
export const MAIN_HELP = `empathy-webhooks — listen for, verify and trigger Empathy Framework webhooks

Usage: empathy-webhooks <command> [options]

Commands:
  listen                      run a local receiver that verifies signatures and prints each event
  trigger <url>               send a sample event through a real CustomWebhook (retries, signing, SSRF guard)
  dead-letters <action>       list, replay or delete the dead letters of a SqliteQueue file
  stats                       pending jobs, dead letters and recent deliveries per webhook in a SqliteQueue file

Options:
  -h, --help                  show help (also: empathy-webhooks <command> --help)
  -v, --version               show the version

Exit codes: 0 success, 1 failure (a delivery failed, a file is missing), 2 bad command line,
130 trigger interrupted by Ctrl-C (Ctrl-C is how listen stops: 0).
Pass secrets with --secret-env NAME: a --secret value ends up in your shell history.
`;

/** `empathy-webhooks listen --help` */
export const LISTEN_HELP = `Usage: empathy-webhooks listen [options]

A receiver for local development. Answers 200 (event accepted), 401 (a signature did not verify,
with the reason), 400 (body not JSON), 404 (another path), 405 (not POST/PUT/PATCH). Prints one
line per request; a repeated event id (at-least-once delivery) is marked "repeat". Ctrl-C stops it.

Options:
  --port <n>            port to listen on; 0 picks a free one            (default: 8787)
  --host <addr>         address to listen on                             (default: 127.0.0.1)
  --secret-env <NAME>   verify signatures with the secret in this environment variable
  --secret <s>          verify signatures with this secret (prefer --secret-env)
  --path <p>            accept requests to this path and below it         (default: /, every path)
  --tolerance <s>       max age of a Standard Webhooks timestamp, seconds (default: 300)
  --json                one JSON object per request on stdout (the banner goes to stderr)

With a secret, every request must carry X-Signature or Standard Webhooks headers
(webhook-id, webhook-timestamp, webhook-signature), and every one present must verify.

Example:
  WEBHOOK_SECRET=whsec_... empathy-webhooks listen --port 8787 --secret-env WEBHOOK_SECRET
`;

/** `empathy-webhooks trigger --help` */
export const TRIGGER_HELP = `Usage: empathy-webhooks trigger <url> [options]

Sends a realistic sample event (or your data) through a real CustomWebhook and core's dispatcher:
retries, Retry-After, the SSRF guard and signing behave exactly as in production. Prints each
outcome (delivered / retry / deferred / dead) and the final stats. Exit code 0 when every event
was delivered, 1 otherwise.

Options:
  --event <type>              event type (prediction, alert, bug_detected, …)  (default: prediction)
  --data <json>               the event's data, as a JSON object               (default: a sample)
  --data-file <file>          read the event's data from a JSON file
  --secret-env <NAME>         sign with the secret in this environment variable
  --secret <s>                sign with this secret (prefer --secret-env)
  --header 'Name: value'      extra request header; repeatable (values are never printed)
  --allow-private-network     allow loopback / private addresses (a receiver on this machine)
  --retries <n>               retries after the first attempt                   (default: 3)
  --retry-delay <s>           wait before the first retry, doubling after       (default: 1)
  --timeout <s>               per-attempt timeout, seconds                      (default: 10)
  --count <n>                 send n events, each with its own event id         (default: 1)
  --user-id <id>              the events' user_id                               (default: developer_123)
  --severity <level>          info, low, medium, warning, high or critical      (default: the sample's)
  --json                      one JSON line per outcome, then a stats line

Example:
  empathy-webhooks trigger http://127.0.0.1:8787 --allow-private-network --secret-env WEBHOOK_SECRET
`;

/** `empathy-webhooks dead-letters --help` */
export const DEAD_LETTERS_HELP = `Usage: empathy-webhooks dead-letters <action> --db <file.sqlite> [options]

Inspects the dead letters of a SqliteQueue file (needs @empathy/webhooks-store-sqlite installed).

Actions:
  list                  list dead letters, oldest first
  show <id>             print one in full (its event payload and error), as JSON
  replay <id>           put one back in the queue (same event id); the app's workers deliver it
  replay-all            put all of them (or one webhook's) back in the queue
  delete <id>           delete one
  clear                 delete all of them (or one webhook's)

Options:
  --db <file>           the SqliteQueue file (required)
  --webhook <name>      only this webhook's letters (list, replay-all, clear)
  --limit <n>           list at most n
  --json                JSON output
`;

/** `empathy-webhooks stats --help` */
export const STATS_HELP = `Usage: empathy-webhooks stats --db <file.sqlite> [options]

Pending jobs (queued, deferred, waiting for a retry or in flight), dead letters and recently
delivered jobs per webhook in a SqliteQueue file (needs @empathy/webhooks-store-sqlite installed).
Every webhook with pending jobs, dead letters or delivery records is listed; name webhooks with
--webhook to see exactly those.

Options:
  --db <file>           the SqliteQueue file (required)
  --webhook <name>      only these webhooks; repeatable
  --json                JSON output
`;

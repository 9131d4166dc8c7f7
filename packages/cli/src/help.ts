/** `empathy-webhooks --help` */
export const MAIN_HELP = `empathy-webhooks — check, test and operate Empathy Framework webhooks

Usage: empathy-webhooks <command> [options]

Commands on your config (empathy-webhooks.config.ts in this folder, or --config <file>):
  check                       load and validate every webhook; one row per webhook
  send-example <webhook>      deliver a realistic sample event to one webhook, through the dispatcher
  stats                       pending jobs, dead letters and recent deliveries per webhook in the queue
  dead-letters <action>       list, show, replay (one or --all) or delete dead letters of the queue
  dashboard                   a local web page: figures per webhook, dead letters with replay and delete

Without a config:
  listen                      run a local receiver that verifies signatures and prints each event
  trigger <url>               send a sample event through a real CustomWebhook (retries, signing, SSRF guard)

Options:
  -h, --help                  show help (also: empathy-webhooks <command> --help)
  -v, --version               show the version

Exit codes: 0 success, 1 failure (a check failed, a delivery failed, a file is missing), 2 bad
command line, 130 interrupted by Ctrl-C (Ctrl-C is how listen and dashboard stop: 0).
Pass secrets with --secret-env NAME: a --secret value ends up in your shell history.
`;

/** `empathy-webhooks check --help` */
export const CHECK_HELP = `Usage: empathy-webhooks check [--config <file>] [--json]

Loads the config (empathy-webhooks.config.{ts,mts,mjs,js} in this folder, or --config) and validates
every webhook as your application's EmpathyOS will: unique names, known event types ("did you
mean"), retry policy, rate limit. Prints one row per webhook: name, integration, events, target
origin, rate limit, retry policy. Never prints a secret: targets show their origin only.

Exit code 1 names the webhook and the option of each problem. A config that throws while loading
(a webhook refusing an option, often because an environment variable is not set) is reported with
its file, and the environment variables the config reads that are not set are listed.

Options:
  --config <file>       the config file
  --json                one JSON object: { ok, file, webhooks, queue, problems }
`;

/** `empathy-webhooks send-example --help` */
export const SEND_EXAMPLE_HELP = `Usage: empathy-webhooks send-example <webhook> [options]

Delivers one realistic sample event to a webhook of your config, for real (a Slack message, a Jira
ticket, a PagerDuty incident…), through core's dispatcher with the webhook's own retry policy,
rate limit and circuit breaker. Prints each attempt and the outcome. Exit code 0 only when the
event was delivered. The webhook's filter is not applied and its onFailure is not called; the
event's metadata carries "example": true. Ctrl-C stops waiting for retries (exit 130).

Options:
  --event <type>        event type                (default: the webhook's first; prediction for '*')
  --data <json>         the event's data, as a JSON object              (default: a sample)
  --data-file <file>    read the event's data from a JSON file
  --config <file>       the config file
  --json                one JSON line per attempt, then { kind: "result", delivered, … }

Example:
  empathy-webhooks send-example slack --event security_vulnerability
`;

/** `empathy-webhooks dashboard --help` */
export const DASHBOARD_HELP = `Usage: empathy-webhooks dashboard [options]

Serves a local web page on the config's durable queue (SqliteQueue or BullMQQueue, or --queue
file.db): per webhook its target, policies, pending jobs, dead letters and recent deliveries; the
dead letters with their error, attempts and event, each with replay and delete. Actions need the
token printed at start (the printed link carries it in its #fragment, which browsers never send).
For an application on the in-memory queue, serve it in-process: serveDashboard(empathy) from
@empathy/webhooks-cli/dashboard. Ctrl-C stops it.

Options:
  --port <n>            port; 0 picks a free one                        (default: 8788)
  --host <addr>         address to listen on (another than loopback prints a warning) (default: 127.0.0.1)
  --config <file>       the config file
  --queue <file.db>     a SqliteQueue file instead of the config's queue
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
export const DEAD_LETTERS_HELP = `Usage: empathy-webhooks dead-letters <action> [options]

The dead letters of your config's queue (SqliteQueue or BullMQQueue) or of a SqliteQueue file
(--queue file.db; needs @empathy/webhooks-store-sqlite installed).

Actions:
  list                  list dead letters, oldest first
  show <id>             print one in full (its event payload and error), as JSON
  replay <id>           put one back in the queue (same event id); the app's workers deliver it
  replay --all          put all of them (or one webhook's) back; a progress bar on a terminal
  delete <id>           delete one
  delete --all          delete all of them (or one webhook's)

Options:
  --config <file>       the config file                  (default: empathy-webhooks.config.* here)
  --queue <file.db>     a SqliteQueue file instead of the config's queue (--db: the older name)
  --webhook <name>      only this webhook's letters (list, replay --all, delete --all)
  --limit <n>           list at most n
  --json                JSON output
`;

/** `empathy-webhooks stats --help` */
export const STATS_HELP = `Usage: empathy-webhooks stats [options]

Pending jobs (queued, deferred, waiting for a retry or in flight), dead letters and recently
delivered jobs per webhook in your config's queue (SqliteQueue or BullMQQueue) or a SqliteQueue
file (--queue file.db). Every webhook of the config and every one with pending jobs, dead letters or
delivery records is listed; name webhooks with --webhook to see exactly those. BullMQ keeps no
delivery records: RECENTLY DELIVERED shows '-' (each worker's monitor counts them).

Options:
  --config <file>       the config file                  (default: empathy-webhooks.config.* here)
  --queue <file.db>     a SqliteQueue file instead of the config's queue (--db: the older name)
  --webhook <name>      only these webhooks; repeatable
  --json                JSON output
`;

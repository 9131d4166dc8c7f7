/**
 * The plugin kit: what integration authors build on. Every property that must hold for all
 * integrations (the SSRF guard, bounded reads that stop at the attempt's deadline, redaction,
 * the error shape, text cleaning, the reading of each event type, the common options) lives here
 * once. Users of the library need none of it: they import the main entry.
 */
export { BlockedAddressError, guardedLookup, privateAddressReason } from './ssrf.js';
export { type PackageIdentity, userAgent } from './user-agent.js';

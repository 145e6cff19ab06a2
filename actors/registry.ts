/**
 * Every actor kind the workers host: name → module (default export: ActorKind). Each worker
 * imports all of them at start.
 */
export const ACTOR_KINDS: Record<string, string> = {
  health: new URL('./health/health-actor.js', import.meta.url).href,
  mailbox: new URL('./mailbox/mailbox-actor.js', import.meta.url).href,
};

import type {
  ContactNotice,
  ImClient,
  ImMessage,
  Presence,
  ServerErrorDetail,
  TypingNotice,
  UserInfo,
} from '@mqim/sdk';

/** What a client heard of the social features (issue 12), in arrival order. */
export interface SocialEvents {
  contact: ContactNotice[];
  typing: TypingNotice[];
  presence: Presence[];
  profile: UserInfo[];
  errors: ServerErrorDetail[];
  messages: ImMessage[];
}

/** Records `c`'s contact, typing, presence, profile, error and message events from now on. */
export function recordSocialEvents(c: ImClient): SocialEvents {
  const seen: SocialEvents = { contact: [], typing: [], presence: [], profile: [], errors: [], messages: [] };
  c.on('contact', (n) => seen.contact.push(n));
  c.on('typing', (n) => seen.typing.push(n));
  c.on('presence', (p) => seen.presence.push(p));
  c.on('profile', (u) => seen.profile.push(u));
  c.on('serverError', (e) => seen.errors.push(e));
  c.on('message', (m) => seen.messages.push(m));
  return seen;
}

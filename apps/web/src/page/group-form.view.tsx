import type { UserInfo } from '@mqim/sdk/browser';
import { useState } from 'preact/hooks';

interface Props {
  contacts: UserInfo[];
  onCreate(name: string, memberIds: number[]): Promise<void>;
}

export function GroupForm({ contacts, onCreate }: Props) {
  const [name, setName] = useState('');
  const [members, setMembers] = useState<Set<number>>(new Set());
  const [error, setError] = useState<string | undefined>(undefined);

  const toggle = (id: number) => {
    const next = new Set(members);
    if (!next.delete(id)) next.add(id);
    setMembers(next);
  };

  return (
    <form
      class="group-form"
      aria-label="New group"
      onSubmit={(e) => {
        e.preventDefault();
        if (name.trim() === '' || members.size === 0) {
          setError('Name the group and pick at least one member.');
          return;
        }
        setError(undefined);
        onCreate(name.trim(), [...members]).then(
          () => {
            setName('');
            setMembers(new Set());
          },
          (err: unknown) => setError(err instanceof Error ? err.message : String(err)),
        );
      }}
    >
      <h2>New group</h2>
      <label>
        Group name
        <input value={name} onInput={(e) => setName(e.currentTarget.value)} />
      </label>
      <fieldset>
        <legend>Members</legend>
        {contacts.map((u) => (
          <label key={u.userId} class="member">
            <input type="checkbox" checked={members.has(u.userId)} onChange={() => toggle(u.userId)} />
            {u.nickName}
          </label>
        ))}
      </fieldset>
      {error && (
        <p class="error" role="alert">
          {error}
        </p>
      )}
      <button type="submit">Create group</button>
    </form>
  );
}

import { useState } from 'preact/hooks';

/** "Add contact": a friend request to the user whose id is typed (each page shows its own id). */
export function ContactForm({ onAdd }: { onAdd(userId: number): Promise<void> }) {
  const [id, setId] = useState('');
  const [note, setNote] = useState<{ error: boolean; text: string } | undefined>(undefined);
  return (
    <form
      class="contact-form"
      aria-label="Add contact"
      onSubmit={(e) => {
        e.preventDefault();
        const userId = Number(id.trim());
        if (!Number.isSafeInteger(userId) || userId <= 0) {
          setNote({ error: true, text: 'Type the id shown on their page.' });
          return;
        }
        onAdd(userId).then(
          () => {
            setId('');
            setNote({ error: false, text: 'Request sent.' });
          },
          (err: unknown) => setNote({ error: true, text: err instanceof Error ? err.message : String(err) }),
        );
      }}
    >
      <h2>Add contact</h2>
      <label>
        User id
        <input value={id} inputMode="numeric" onInput={(e) => setId(e.currentTarget.value)} />
      </label>
      {note && (
        <p class={note.error ? 'error' : 'note'} role={note.error ? 'alert' : 'status'}>
          {note.text}
        </p>
      )}
      <button type="submit">Add</button>
    </form>
  );
}

import { useState } from 'preact/hooks';

interface Props {
  onSubmit(userName: string, password: string, register: boolean): Promise<void>;
}

export function LoginView({ onSubmit }: Props) {
  const [userName, setUserName] = useState('');
  const [password, setPassword] = useState('');
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | undefined>(undefined);

  const submit = async (register: boolean) => {
    if (userName.trim() === '' || password === '') {
      setError('Enter a user name and a password.');
      return;
    }
    setBusy(true);
    setError(undefined);
    try {
      await onSubmit(userName.trim(), password, register);
    } catch (err) {
      setError(err instanceof Error ? err.message : String(err));
      setBusy(false);
    }
  };

  return (
    <form
      class="login"
      aria-label="Log in"
      onSubmit={(e) => {
        e.preventDefault();
        void submit(false);
      }}
    >
      <h1>mqim chat</h1>
      <label>
        User name
        <input
          name="username"
          autocomplete="username"
          value={userName}
          onInput={(e) => setUserName(e.currentTarget.value)}
        />
      </label>
      <label>
        Password
        <input
          name="password"
          type="password"
          autocomplete="current-password"
          value={password}
          onInput={(e) => setPassword(e.currentTarget.value)}
        />
      </label>
      {error && (
        <p class="error" role="alert">
          {error}
        </p>
      )}
      <div class="buttons">
        <button type="submit" disabled={busy}>
          Log in
        </button>
        <button type="button" disabled={busy} onClick={() => void submit(true)}>
          Register
        </button>
      </div>
    </form>
  );
}

import { ClientType, createImClient } from '@mqim/sdk/browser';
import { useState } from 'preact/hooks';
import { ChatModel } from './chat.model';
import { ChatView } from './chat.view';
import { LoginView } from './login.view';
import { registerUser } from './register.api';
import type { WebConfig } from './web.config';

export function App({ config }: { config: WebConfig }) {
  const [model, setModel] = useState<ChatModel | undefined>(undefined);

  const logIn = async (userName: string, password: string, register: boolean): Promise<void> => {
    if (register) await registerUser(userName, password);
    const client = createImClient({
      url: config.gateUrls,
      clientType: ClientType.WEB,
      clientVersion: 'mqim-web/0.1.0',
      // Rides out a gate restart or a network change: the banner shows it, sends wait for it.
      reconnect: true,
    });
    try {
      const { user } = await client.loginWithPassword(userName, password);
      const chat = new ChatModel(client, user);
      await chat.load();
      setModel(chat);
    } catch (err) {
      await client.close();
      throw err;
    }
  };

  if (model === undefined) return <LoginView onSubmit={logIn} />;
  return (
    <ChatView
      model={model}
      onLogOut={async () => {
        await model.client.logout().catch(() => undefined);
        await model.client.close();
        setModel(undefined);
      }}
    />
  );
}

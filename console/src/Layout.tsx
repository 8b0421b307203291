import { Link, usePath } from './router';
import { useSession } from './session';
import { ClientsPage } from './pages/ClientsPage';
import { HomePage } from './pages/HomePage';
import { MailingForm } from './pages/MailingForm';
import { MailingPage } from './pages/MailingPage';
import { MailingsPage } from './pages/MailingsPage';
import { InboundPage } from './pages/InboundPage';
import { OptOutsPage } from './pages/OptOutsPage';
import { WebhookPage } from './pages/WebhookPage';
import { WebhooksPage } from './pages/WebhooksPage';
import { MessagesPage } from './pages/MessagesPage';
import { ClientPage } from './pages/ClientPage';
import { SimulatorBanner } from './SimulatorBanner';

function page(path: string) {
  if (path === '/') return <HomePage />;
  if (path === '/mailings') return <MailingsPage />;
  if (path === '/mailings/new') return <MailingForm />;
  if (path === '/clients') return <ClientsPage />;
  // Under /clients: Herald answers a reload of /clients/* with the app (console.routes.ts), not one of /opt-outs.
  if (path === '/clients/opt-outs') return <OptOutsPage />;
  if (path === '/inbound') return <InboundPage />;
  if (path === '/webhooks') return <WebhooksPage />;
  const webhook = /^\/webhooks\/([1-9][0-9]*)$/.exec(path);
  if (webhook) return <WebhookPage key={webhook[1]} id={webhook[1]} />;
  const messages = /^\/mailings\/([1-9][0-9]*)\/messages$/.exec(path);
  if (messages) return <MessagesPage key={messages[1]} id={messages[1]} />;
  const client = /^\/clients\/([1-9][0-9]*)$/.exec(path);
  if (client) return <ClientPage key={client[1]} id={client[1]} />;
  const mailing = /^\/mailings\/([1-9][0-9]*)(\/edit)?$/.exec(path);
  if (mailing) return mailing[2] ? <MailingForm key={mailing[1]} id={mailing[1]} /> : <MailingPage key={mailing[1]} id={mailing[1]} />;
  return <p>There is no page at {path}.</p>;
}

export function Layout() {
  const path = usePath();
  const { role, signOut } = useSession();
  const section = (prefix: string) => (prefix === '/' ? path === '/' : path.startsWith(prefix)) ? 'active' : '';
  return (
    <>
      <header className="top">
        <span className="brand">Herald</span>
        <nav>
          <Link to="/" className={section('/')}>
            Overview
          </Link>
          <Link to="/mailings" className={section('/mailings')}>
            Mailings
          </Link>
          <Link to="/clients" className={path === '/clients' ? 'active' : ''}>
            Clients
          </Link>
          <Link to="/clients/opt-outs" className={section('/clients/opt-outs')}>
            Opt-outs
          </Link>
          <Link to="/inbound" className={section('/inbound')}>
            Replies
          </Link>
          <Link to="/webhooks" className={section('/webhooks')}>
            Webhooks
          </Link>
          <a href="/graphql" target="_blank" rel="noreferrer">
            GraphiQL
          </a>
        </nav>
        <span className="who">
          signed in as <strong>{role.toLowerCase()}</strong>
          <button className="link" onClick={signOut}>
            Sign out
          </button>
        </span>
      </header>
      <SimulatorBanner />
      <main className="content">{page(path)}</main>
    </>
  );
}

import { graphql } from './gql';

// Every operation the console runs, checked against ../schema.graphql by codegen. A mailing
// is always read with the fields of MailingCard, so that any event carrying a mailing
// refreshes every view of it through Apollo's cache.

export const ME = graphql(`
  query Me {
    me {
      role
    }
  }
`);

export const FIGURES = graphql(`
  fragment Figures on Statistics {
    mailingCount
    messages {
      ...Counts
    }
  }
`);

export const COUNTS = graphql(`
  fragment Counts on MessageStats {
    total
    pending
    sent
    failed
    expired
    cancelled
  }
`);

export const STATISTICS = graphql(`
  query Statistics {
    statistics {
      ...Figures
    }
  }
`);

export const STATISTICS_CHANGED = graphql(`
  subscription StatisticsChanged {
    statisticsChanged {
      ...Figures
    }
  }
`);

export const MAILING_CARD = graphql(`
  fragment MailingCard on Mailing {
    id
    text
    status
    startAt
    endAt
    stats {
      ...Counts
    }
  }
`);

export const MAILING_DETAILS = graphql(`
  fragment MailingDetails on Mailing {
    ...MailingCard
    createdAt
    filter {
      operatorCodes
      tags
      tagMatch
    }
    sendWindow {
      from
      to
    }
  }
`);

export const MAILINGS = graphql(`
  query Mailings($first: Int, $after: String, $status: MailingStatus) {
    mailings(first: $first, after: $after, status: $status) {
      totalCount
      edges {
        node {
          ...MailingCard
        }
      }
      pageInfo {
        hasNextPage
        endCursor
      }
    }
  }
`);

export const MAILINGS_CHANGED = graphql(`
  subscription MailingsChanged {
    mailingsChanged {
      mailingId
      kind
      mailing {
        ...MailingCard
      }
    }
  }
`);

export const MAILING = graphql(`
  query Mailing($id: ID!) {
    mailing(id: $id) {
      ...MailingDetails
    }
  }
`);

export const THROUGHPUT = graphql(`
  query Throughput($id: ID!) {
    mailing(id: $id) {
      id
      throughput(points: 120) {
        points {
          at
          perSecond
        }
      }
    }
  }
`);

export const FAILED_MESSAGES = graphql(`
  query FailedMessages($id: ID!) {
    mailing(id: $id) {
      id
      messages(status: FAILED, first: 50) {
        edges {
          node {
            ...FailedMessage
          }
        }
      }
    }
  }
`);

export const FAILED_MESSAGE = graphql(`
  fragment FailedMessage on Message {
    id
    status
    attempts
    lastError
    clientId
    client {
      id
      phone
    }
  }
`);

export const MAILING_PROGRESS = graphql(`
  subscription MailingProgress($id: ID!) {
    mailingProgress(mailingId: $id) {
      ratePerSecond
      etaSeconds
      atRisk
      at
      mailing {
        ...MailingCard
      }
    }
  }
`);

export const CREATE_MAILING = graphql(`
  mutation CreateMailing($input: CreateMailingInput!) {
    createMailing(input: $input) {
      ...MailingCard
    }
  }
`);

export const UPDATE_MAILING = graphql(`
  mutation UpdateMailing($id: ID!, $input: UpdateMailingInput!) {
    updateMailing(id: $id, input: $input) {
      ...MailingDetails
    }
  }
`);

export const PAUSE_MAILING = graphql(`
  mutation PauseMailing($id: ID!) {
    pauseMailing(id: $id) {
      ...MailingCard
    }
  }
`);

export const RESUME_MAILING = graphql(`
  mutation ResumeMailing($id: ID!) {
    resumeMailing(id: $id) {
      ...MailingCard
    }
  }
`);

export const CANCEL_MAILING = graphql(`
  mutation CancelMailing($id: ID!) {
    cancelMailing(id: $id) {
      ...MailingCard
    }
  }
`);

export const DELETE_MAILING = graphql(`
  mutation DeleteMailing($id: ID!) {
    deleteMailing(id: $id)
  }
`);

export const MATCHING_CLIENTS = graphql(`
  query MatchingClients($filter: ClientFilterInput) {
    clients(first: 0, filter: $filter) {
      totalCount
    }
  }
`);

export const CLIENTS = graphql(`
  query Clients($first: Int, $after: String, $filter: ClientFilterInput, $phone: String) {
    clients(first: $first, after: $after, filter: $filter, phone: $phone) {
      totalCount
      edges {
        node {
          ...ClientRow
        }
      }
      pageInfo {
        hasNextPage
        endCursor
      }
    }
  }
`);

export const CLIENT_ROW = graphql(`
  fragment ClientRow on Client {
    id
    phone
    operatorCode
    tags
    timezone
  }
`);

export const CLIENTS_CHANGED = graphql(`
  subscription ClientsChanged {
    clientsChanged {
      at
    }
  }
`);

export const CREATE_CLIENT = graphql(`
  mutation CreateClient($input: CreateClientInput!) {
    createClient(input: $input) {
      ...ClientRow
    }
  }
`);

export const UPDATE_CLIENT = graphql(`
  mutation UpdateClient($id: ID!, $input: UpdateClientInput!) {
    updateClient(id: $id, input: $input) {
      ...ClientRow
    }
  }
`);

export const DELETE_CLIENT = graphql(`
  mutation DeleteClient($id: ID!) {
    deleteClient(id: $id)
  }
`);

export const IMPORT_CLIENTS = graphql(`
  mutation ImportClients($input: [CreateClientInput!]!) {
    importClients(input: $input) {
      imported
      failed
      errors {
        index
        field
        message
      }
    }
  }
`);

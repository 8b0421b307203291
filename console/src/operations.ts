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
    skipped
    delivered
    undelivered
    awaitingReceipt
    deliveryRate
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

export const PROVIDER_FIGURES = graphql(`
  fragment ProviderFigures on Provider {
    name
    type
    state
    reason
    inFlight
    partsPerSecond
    sentPerSecond
    bindsUp
    simulated
  }
`);

export const PROVIDERS = graphql(`
  query Providers {
    providers {
      ...ProviderFigures
    }
  }
`);

export const PROVIDERS_CHANGED = graphql(`
  subscription ProvidersChanged {
    providersChanged {
      ...ProviderFigures
    }
  }
`);

export const MAILING_CARD = graphql(`
  fragment MailingCard on Mailing {
    id
    name
    text
    status
    underWay
    actions
    pausedReason
    pausedBy
    pausedAt
    startAt
    endAt
    startedAt
    finishedAt
    stats {
      ...Counts
    }
  }
`);

export const MAILING_DETAILS = graphql(`
  fragment MailingDetails on Mailing {
    ...MailingCard
    createdAt
    personalised
    messagesRetained
    filter {
      operatorCodes
      tags
      tagMatch
    }
    sendWindow {
      from
      to
    }
    segments {
      encoding
      characters
      parts
      charactersLeft
    }
    audienceSize
    estimatedParts
    frequencyCap
    maxFailureRate
  }
`);

export const MAILINGS = graphql(`
  query Mailings($first: Int, $after: String, $status: MailingStatus, $name: String, $startFrom: DateTime, $startTo: DateTime, $sort: MailingSort, $descending: Boolean) {
    mailings(first: $first, after: $after, status: $status, name: $name, startFrom: $startFrom, startTo: $startTo, sort: $sort, descending: $descending) {
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
        bucketSeconds
        points {
          at
          perSecond
        }
      }
    }
  }
`);

export const MESSAGES_BY_STATUS = graphql(`
  query MessagesByStatus($id: ID!, $status: MessageStatus!) {
    mailing(id: $id) {
      id
      messages(status: $status, first: 50) {
        edges {
          node {
            ...ListedMessage
          }
        }
      }
    }
  }
`);

export const LISTED_MESSAGE = graphql(`
  fragment ListedMessage on Message {
    id
    status
    attempts
    lastError
    text
    clientId
    client {
      id
      phone
    }
    sentAt
    deliveredAt
    provider
    providerMessageId
  }
`);

export const FAILURE_REASONS = graphql(`
  query FailureReasons($id: ID!) {
    mailing(id: $id) {
      id
      failureReasons(first: 10) {
        status
        reason
        count
      }
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

export const RETRY_FAILED = graphql(`
  mutation RetryFailed($id: ID!) {
    retryFailed(mailingId: $id) {
      ...MailingCard
    }
  }
`);

export const DUPLICATE_MAILING = graphql(`
  mutation DuplicateMailing($id: ID!) {
    duplicateMailing(id: $id) {
      ...MailingCard
    }
  }
`);

export const TEST_SEND = graphql(`
  mutation TestSend($text: String!, $phone: String!) {
    testSend(text: $text, phone: $phone) {
      id
      status
      outcome
      error
      text
      segments {
        encoding
        characters
        parts
        charactersLeft
      }
    }
  }
`);

// How Herald bills a text as it is typed (it owns the rule): placeholders at their longest.
export const MEASURE_TEXT = graphql(`
  query MeasureText($text: String!) {
    measureText(text: $text) {
      segments {
        encoding
        characters
        parts
        charactersLeft
      }
      placeholders
      placeholderLength
      maxSegments
    }
  }
`);

// The audience a mailing starting now would have: opted-out phones left out.
export const AUDIENCE_PREVIEW = graphql(`
  query AudiencePreview($filter: ClientFilterInput!) {
    audiencePreview(filter: $filter)
  }
`);

export const OPT_OUTS = graphql(`
  query OptOuts($first: Int, $after: String, $phone: String) {
    optOuts(first: $first, after: $after, phone: $phone) {
      totalCount
      edges {
        node {
          id
          phone
          reason
          optedOutAt
        }
      }
      pageInfo {
        hasNextPage
        endCursor
      }
    }
  }
`);

export const OPT_OUT = graphql(`
  mutation OptOut($phone: String!, $reason: String) {
    optOut(phone: $phone, reason: $reason)
  }
`);

export const OPT_IN = graphql(`
  mutation OptIn($phone: String!) {
    optIn(phone: $phone)
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
    name
    attributes
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

export const INBOUND_ROW = graphql(`
  fragment InboundRow on InboundMessage {
    id
    from
    text
    receivedAt
    provider
    action
    client {
      id
      phone
      name
    }
  }
`);

export const INBOUND_MESSAGES = graphql(`
  query InboundMessages($first: Int, $after: String, $phone: String) {
    inboundMessages(first: $first, after: $after, phone: $phone) {
      totalCount
      edges {
        node {
          ...InboundRow
        }
      }
      pageInfo {
        hasNextPage
        endCursor
      }
    }
  }
`);

export const INBOUND_RECEIVED = graphql(`
  subscription InboundReceived {
    inboundReceived {
      ...InboundRow
    }
  }
`);

export const WEBHOOK_ROW = graphql(`
  fragment WebhookRow on Webhook {
    id
    url
    events
    description
    enabled
    disabledReason
    createdAt
    updatedAt
    pendingDeliveries
    failedDeliveries
  }
`);

export const DELIVERY_ROW = graphql(`
  fragment DeliveryRow on WebhookDelivery {
    eventId
    type
    status
    attempts
    lastError
    createdAt
    nextAttemptAt
    deliveredAt
    payload
  }
`);

export const WEBHOOKS = graphql(`
  query Webhooks {
    webhooks {
      ...WebhookRow
    }
  }
`);

export const WEBHOOK = graphql(`
  query Webhook($id: ID!, $first: Int, $after: String) {
    webhook(id: $id) {
      ...WebhookRow
      deliveries(first: $first, after: $after) {
        totalCount
        edges {
          node {
            ...DeliveryRow
          }
        }
        pageInfo {
          hasNextPage
          endCursor
        }
      }
    }
  }
`);

export const CREATE_WEBHOOK = graphql(`
  mutation CreateWebhook($input: CreateWebhookInput!) {
    createWebhook(input: $input) {
      secret
      webhook {
        ...WebhookRow
      }
    }
  }
`);

export const UPDATE_WEBHOOK = graphql(`
  mutation UpdateWebhook($id: ID!, $input: UpdateWebhookInput!) {
    updateWebhook(id: $id, input: $input) {
      ...WebhookRow
    }
  }
`);

export const DELETE_WEBHOOK = graphql(`
  mutation DeleteWebhook($id: ID!) {
    deleteWebhook(id: $id)
  }
`);

export const TEST_WEBHOOK = graphql(`
  mutation TestWebhook($id: ID!) {
    testWebhook(id: $id) {
      ...DeliveryRow
    }
  }
`);

// Issue 20's browsing: a mailing's messages by status, phone and failure reason, in pages.
export const MAILING_MESSAGES = graphql(`
  query MailingMessages($id: ID!, $first: Int, $after: String, $status: MessageStatus, $phone: String, $reason: String) {
    mailing(id: $id) {
      id
      name
      text
      messagesRetained
      messages(first: $first, after: $after, status: $status, phone: $phone, reason: $reason) {
        totalCount
        edges {
          node {
            ...ListedMessage
            phone
          }
        }
        pageInfo {
          hasNextPage
          endCursor
        }
      }
    }
  }
`);

// The overview (issue 20): messages per UTC day, and how many clients the directory holds.
export const MESSAGES_PER_DAY = graphql(`
  query MessagesPerDay($days: Int!) {
    statistics {
      messagesPerDay(days: $days) {
        day
        sent
        delivered
        failed
      }
    }
  }
`);

// A client's page: its fields, opt-out state and its messages across mailings, newest first.
export const CLIENT_PAGE = graphql(`
  query ClientPage($id: ID!, $first: Int, $after: String) {
    client(id: $id) {
      ...ClientRow
      optedOut
      createdAt
      updatedAt
      messages(first: $first, after: $after) {
        totalCount
        edges {
          node {
            id
            mailingId
            mailing {
              id
              name
            }
            status
            attempts
            lastError
            text
            sentAt
            deliveredAt
            provider
          }
        }
        pageInfo {
          hasNextPage
          endCursor
        }
      }
    }
  }
`);

// Every tag with how many clients carry it, for the mailing form's filter picker.
export const TAGS = graphql(`
  query Tags {
    tags {
      name
      clientCount
    }
  }
`);

// The mailing form's preview: one client of the audience (opt-outs shown as such), the text rendered for it, and the estimate.
export const PREVIEW_CLIENT = graphql(`
  query PreviewClient($filter: ClientFilterInput, $after: String) {
    clients(first: 1, after: $after, filter: $filter) {
      totalCount
      edges {
        node {
          id
          phone
          name
          optedOut
        }
      }
      pageInfo {
        hasNextPage
        endCursor
      }
    }
  }
`);

export const PREVIEW_MAILING = graphql(`
  query PreviewMailing($text: String!, $clientId: ID!) {
    previewMailing(text: $text, clientId: $clientId) {
      text
      segments {
        encoding
        characters
        parts
        charactersLeft
      }
    }
  }
`);

export const MAILING_ESTIMATE = graphql(`
  query MailingEstimate($text: String!, $filter: ClientFilterInput!) {
    mailingEstimate(text: $text, filter: $filter) {
      audience
      parts
      typicalParts
      longestParts
      worstCaseParts
      exact
    }
  }
`);

export const CLIENT_COUNT = graphql(`
  query ClientCount {
    clients(first: 0) {
      totalCount
    }
  }
`);

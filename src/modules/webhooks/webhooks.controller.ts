import { Body, Controller, Delete, Get, HttpCode, Param, Patch, Post, Query } from '@nestjs/common';
import { ApiCallbacks, ApiExtraModels, ApiNotFoundResponse, ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { PageOf, PaginationQueryDto } from '../../common/api/pagination.dto';
import { Authenticated, CurrentPrincipal } from '../../common/auth/authenticated.decorator';
import { Principal } from '../../common/auth/principal';
import { ErrorEnvelope } from '../../common/errors/error-envelope.dto';
import { RevealsSecret } from '../../common/http/idempotency.decorator';
import { CreatedWebhookDto, CreateWebhookDto, TestWebhookResponseDto, UpdateWebhookDto, WebhookDeliveryDto, WebhookDto } from './dto/webhook.dto';
import { AgentOfflineWebhookEventDto, AuditChainBrokenWebhookEventDto, PingWebhookEventDto, RequestWebhookEventDto } from './dto/webhook-event.dto';
import { WebhooksService } from './webhooks.service';
import { Audited } from '../../common/audit/audited.decorator';

const MANAGE = { permission: 'webhook.manage', scope: 'tenant' } as const;
/** What Countersign then POSTs to the endpoint's `url`, one callback per event family (`format: "json"`). */
const WEBHOOK_EVENT_CALLBACKS = (
  [
    ['requestEvent', RequestWebhookEventDto],
    ['agentOffline', AgentOfflineWebhookEventDto],
    ['auditChainBroken', AuditChainBrokenWebhookEventDto],
    ['ping', PingWebhookEventDto],
  ] as const
).map(([name, type]) => ({
  name,
  callbackUrl: '{$request.body#/url}',
  method: 'post',
  requestBody: { type },
  expectedResponse: { status: 200, description: 'Any 2xx acknowledges the delivery; anything else (or no answer within 10 s) is retried with backoff.' },
}));

@ApiTags('Webhooks')
// The bodies POSTed to endpoints (not answers of these routes), so that clients get their types.
@ApiExtraModels(RequestWebhookEventDto, AgentOfflineWebhookEventDto, AuditChainBrokenWebhookEventDto, PingWebhookEventDto)
@ApiNotFoundResponse({ type: ErrorEnvelope, description: 'No such webhook (or delivery) in your tenant.' })
@Controller('api/v1/webhooks')
export class WebhooksController {
  constructor(private readonly webhooks: WebhooksService) {}

  /** Register an endpoint; the signing secret is shown once. */
  @ApiOperation({ summary: 'Create a webhook' })
  @ApiCallbacks(...WEBHOOK_EVENT_CALLBACKS)
  @Post()
  @RevealsSecret()
  @Authenticated(MANAGE)
  @Audited('webhook.created')
  create(@CurrentPrincipal() principal: Principal, @Body() dto: CreateWebhookDto): Promise<CreatedWebhookDto> {
    return this.webhooks.create(principal, dto);
  }

  /** List the tenant's endpoints (never their secrets). */
  @ApiOperation({ summary: 'List webhooks' })
  @Get()
  @Authenticated(MANAGE)
  @ApiOkResponse({ type: PageOf(WebhookDto) })
  list(@CurrentPrincipal() principal: Principal, @Query() query: PaginationQueryDto) {
    return this.webhooks.list(principal, query);
  }

  /** Get one endpoint (never its secret). */
  @ApiOperation({ summary: 'Get a webhook' })
  @Get(':id')
  @Authenticated(MANAGE)
  get(@CurrentPrincipal() principal: Principal, @Param('id') id: string): Promise<WebhookDto> {
    return this.webhooks.get(principal, id);
  }

  /** Enable or disable, change the events, URL or description. */
  @ApiOperation({ summary: 'Update a webhook' })
  @Patch(':id')
  @Authenticated(MANAGE)
  @Audited('webhook.updated')
  update(@CurrentPrincipal() principal: Principal, @Param('id') id: string, @Body() dto: UpdateWebhookDto): Promise<WebhookDto> {
    return this.webhooks.update(principal, id, dto);
  }

  /** Delete an endpoint and its deliveries. */
  @ApiOperation({ summary: 'Delete a webhook' })
  @Delete(':id')
  @HttpCode(204)
  @Authenticated(MANAGE)
  @Audited('webhook.deleted')
  remove(@CurrentPrincipal() principal: Principal, @Param('id') id: string): Promise<void> {
    return this.webhooks.remove(principal, id);
  }

  /** A new signing secret, shown once; the previous one keeps signing (a second `v1=`) for 24 h. */
  @ApiOperation({ summary: 'Rotate a webhook\'s signing secret' })
  @Post(':id/rotate-secret')
  @HttpCode(200)
  @RevealsSecret()
  @Authenticated(MANAGE)
  @Audited('webhook.secret_rotated')
  rotateSecret(@CurrentPrincipal() principal: Principal, @Param('id') id: string): Promise<CreatedWebhookDto> {
    return this.webhooks.rotateSecret(principal, id);
  }

  /** The endpoint's deliveries, oldest first: status, attempts, last status code and error, next attempt. */
  @ApiOperation({ summary: 'List a webhook\'s deliveries' })
  @Get(':id/deliveries')
  @Authenticated(MANAGE)
  @ApiOkResponse({ type: PageOf(WebhookDeliveryDto) })
  deliveries(@CurrentPrincipal() principal: Principal, @Param('id') id: string, @Query() query: PaginationQueryDto) {
    return this.webhooks.deliveries(principal, id, query);
  }

  /** Send a delivery again (now), whatever its state. */
  @ApiOperation({ summary: 'Redeliver' })
  @Post(':id/deliveries/:delivery_id/redeliver')
  @HttpCode(202)
  @Authenticated(MANAGE)
  @Audited('webhook.redelivery_requested')
  redeliver(@CurrentPrincipal() principal: Principal, @Param('id') id: string, @Param('delivery_id') deliveryId: string): Promise<WebhookDeliveryDto> {
    return this.webhooks.redeliver(principal, id, deliveryId);
  }

  /** Queue a `ping` event to this endpoint. */
  @ApiOperation({ summary: 'Send a test event' })
  @Post(':id/test')
  @HttpCode(202)
  @Authenticated(MANAGE)
  @Audited('webhook.tested')
  test(@CurrentPrincipal() principal: Principal, @Param('id') id: string): Promise<TestWebhookResponseDto> {
    return this.webhooks.test(principal, id);
  }
}

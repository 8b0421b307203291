ALTER TABLE "messages" DROP CONSTRAINT "messages_mailing_id_mailings_id_fk";
